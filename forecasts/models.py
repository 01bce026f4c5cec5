"""Who said what, where, and how it turned out.

The claim fields of a Forecast are written by forecasts.services only; the
score fields by the scorer (forecasts.services.scoring). Every change to either
leaves a ForecastEvent with who, when, what and why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from marketdata.models import Instrument


class Kind(models.TextChoices):
    REACH = "reach", "Reaches a level"
    CLOSE_ABOVE = "close_above", "Closes at or above"
    CLOSE_BELOW = "close_below", "Closes at or below"
    RANGE = "range", "Closes within a range"
    DIRECTION_UP = "direction_up", "Ends higher"
    DIRECTION_DOWN = "direction_down", "Ends lower"
    MOVE_PCT = "move_pct", "Moves by a percentage"
    OUTPERFORM = "outperform", "Outperforms another instrument"
    MANUAL = "manual", "Qualitative (judged by an editor)"


KINDS_WITH_TARGET = (Kind.REACH, Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW, Kind.RANGE, Kind.MOVE_PCT)


class Basis(models.TextChoices):
    CLOSE = "close", "Daily close"
    INTRADAY = "intraday", "Intraday high / low"


class DeadlineSource(models.TextChoices):
    STATED = "stated", "Stated in the quote"
    IMPLIED = "implied", "Implied (e.g. 'by year end')"
    NONE = "none", "None stated (default horizon)"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    HIT = "hit", "Hit"
    MISS = "miss", "Miss"
    VOID = "void", "Void"


class Firm(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    website = models.URLField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Strategist(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    firm = models.ForeignKey(
        Firm, null=True, blank=True, on_delete=models.SET_NULL, related_name="strategists"
    )
    title = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("strategist-detail", args=[self.slug])


class Source(models.Model):
    """An article (or broadcast, note, post) that quoted one or more forecasts."""

    publication = models.CharField(max_length=200)
    url = models.URLField(max_length=1000, unique=True)
    title = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(
        help_text="When it became public. Date-only sources are stored at the end of that day "
        "in the exchange time zone of their forecasts."
    )
    published_date_only = models.BooleanField(default=False, help_text="Only the date was known.")
    published_on = models.DateField(
        null=True, blank=True, help_text="The publication date as printed, for date-only sources."
    )
    language = models.CharField(max_length=16, default="en")
    article_text = models.TextField(
        blank=True, help_text="The article's own words, kept as evidence (empty when the text was not kept)."
    )
    text_sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of article_text (UTF-8), in case the page later changes.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"{self.publication}: {self.title or self.url}"


class PublishedForecastManager(models.Manager):
    """What the public sees: published forecasts only. Editors' drafts live in `all_objects`."""

    def get_queryset(self):
        return super().get_queryset().filter(published_at__isnull=False)


class Forecast(models.Model):
    # --- the claim (locked once recorded: changes go through services with a reason)
    strategist = models.ForeignKey(Strategist, on_delete=models.PROTECT, related_name="forecasts")
    firm = models.ForeignKey(
        Firm,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="forecasts",
        help_text="The strategist's firm when the forecast was made.",
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="forecasts")
    quote = models.TextField(help_text="The verbatim words of the forecast.")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="forecasts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.FloatField(
        null=True, blank=True, help_text="Price target T (lower bound L for range; percent X for move_pct)."
    )
    target_upper = models.FloatField(null=True, blank=True, help_text="Upper bound U for range.")
    other_instrument = models.ForeignKey(
        Instrument,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Instrument B for outperform.",
    )
    basis = models.CharField(max_length=8, choices=Basis.choices, default=Basis.CLOSE)
    made_at = models.DateTimeField(help_text="When the forecast became public.")
    deadline = models.DateField(
        help_text="Inclusive, exchange-local. The default horizon when none was stated."
    )
    deadline_source = models.CharField(max_length=8, choices=DeadlineSource.choices)

    # --- the score (written by the scorer only)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    status_note = models.CharField(max_length=300, blank=True, help_text="Why it stands as it does.")
    awaiting_data = models.BooleanField(default=False)
    resolved_on = models.DateField(null=True, blank=True, help_text="The deciding session.")
    resolution_price = models.FloatField(null=True, blank=True)
    baseline = models.FloatField(null=True, blank=True)
    baseline_date = models.DateField(null=True, blank=True)
    window_start = models.DateField(null=True, blank=True, help_text="First window session.")
    window_end = models.DateField(null=True, blank=True, help_text="Last window session.")
    window_sessions = models.PositiveIntegerField(null=True, blank=True)
    difficulty = models.FloatField(
        null=True, blank=True, help_text="p: chance a driftless random walk makes the claim come true."
    )
    skill = models.FloatField(null=True, blank=True, help_text="outcome - p, for resolved forecasts.")
    window_return = models.FloatField(
        null=True, blank=True, help_text="Split-adjusted return from the baseline to the last window close."
    )
    benchmark_return = models.FloatField(
        null=True,
        blank=True,
        help_text="The market's benchmark index over the same dates (directional claims).",
    )
    scorer_version = models.CharField(max_length=16, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    voided_on = models.DateField(
        null=True,
        blank=True,
        help_text="An automatic void: the session from which it holds (point-in-time views date it so).",
    )

    # --- the record
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revised_by",
        help_text="The strategist's earlier call this one revises (both stay on record and are scored).",
    )
    possible_duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Flagged on entry: probably the same call from another source; a reviewer decides.",
    )
    published_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Empty while a draft awaits review."
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who entered it (empty for imports).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Indexed: the newest change is every public page's Last-Modified and the board cache's key.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    all_objects = models.Manager()
    objects = PublishedForecastManager()

    class Meta:
        ordering = ["-made_at", "id"]
        base_manager_name = "all_objects"
        default_manager_name = "all_objects"
        permissions = [
            ("publish_forecast", "Can publish forecasts"),
            ("correct_forecast", "Can correct forecasts"),
            ("void_forecast", "Can void forecasts"),
            ("judge_forecast", "Can judge qualitative forecasts"),
        ]
        indexes = [
            models.Index(fields=["instrument", "status"], name="forecast_instrument_status"),
            models.Index(fields=["strategist", "status"], name="forecast_strategist_status"),
            # The home page's three short lists (newest, recently resolved, deadlines ahead) read the first
            # few rows of an ordering over every forecast: without these, a sort of a million rows each.
            models.Index(fields=["-made_at", "-id"], name="forecast_newest"),
            models.Index(
                fields=["-resolved_on", "-id"],
                name="forecast_recently_resolved",
                condition=Q(status__in=["hit", "miss"]),
            ),
            models.Index(fields=["deadline", "id"], name="forecast_upcoming", condition=Q(status="pending")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="forecast_kind_known"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="forecast_status_known"),
            models.CheckConstraint(condition=Q(basis__in=Basis.values), name="forecast_basis_known"),
            models.CheckConstraint(
                condition=Q(deadline_source__in=DeadlineSource.values), name="forecast_deadline_source_known"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[k.value for k in KINDS_WITH_TARGET]) | Q(target__isnull=False),
                name="forecast_target_required",
            ),
            models.CheckConstraint(
                condition=Q(kind=Kind.MOVE_PCT) | Q(target__isnull=True) | Q(target__gt=0),
                name="forecast_target_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind=Kind.MOVE_PCT) | (Q(target__gt=-100) & ~Q(target=0)),
                name="forecast_move_pct_sane",
            ),
            models.CheckConstraint(
                condition=~Q(kind=Kind.RANGE) | Q(target_upper__gt=F("target")),
                name="forecast_range_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(kind=Kind.OUTPERFORM) | Q(other_instrument__isnull=False),
                name="forecast_outperform_needs_other",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[Status.HIT, Status.MISS]) | Q(resolved_on__isnull=False),
                name="forecast_resolved_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.VOID) | ~Q(void_reason=""), name="forecast_void_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(difficulty__isnull=True) | (Q(difficulty__gte=0) & Q(difficulty__lte=1)),
                name="forecast_difficulty_is_probability",
            ),
            # A forecast is its claim: one source may quote the same person making two claims in one
            # sentence ("27,500 by mid-2026 and 28,800 by the end of next year"), never the same claim
            # twice. NULLs are equal here (PostgreSQL 15+); SQLite cannot say so, and the recording
            # service's own identity check is what holds there.
            models.UniqueConstraint(
                fields=[
                    "source",
                    "strategist",
                    "instrument",
                    "kind",
                    "target",
                    "target_upper",
                    "other_instrument",
                    "basis",
                    "deadline",
                ],
                nulls_distinct=False,
                name="forecast_unique_claim",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.strategist} · {self.instrument} {self.kind} {self.target or ''}".strip()

    def get_absolute_url(self) -> str:
        return reverse("forecast-detail", args=[self.pk])


class Alias(models.Model):
    """Another name for a strategist, firm or instrument (English, Chinese, tickers).

    Used to match names in articles and in imports to the records they mean.
    """

    class Target(models.TextChoices):
        STRATEGIST = "strategist", "Strategist"
        FIRM = "firm", "Firm"
        INSTRUMENT = "instrument", "Instrument"

    target = models.CharField(max_length=16, choices=Target.choices)
    name = models.CharField(max_length=200, help_text="As written, e.g. 恒指, Zhongtai International.")
    strategist = models.ForeignKey(
        Strategist, null=True, blank=True, on_delete=models.CASCADE, related_name="aliases"
    )
    firm = models.ForeignKey(Firm, null=True, blank=True, on_delete=models.CASCADE, related_name="aliases")
    instrument = models.ForeignKey(
        Instrument, null=True, blank=True, on_delete=models.CASCADE, related_name="aliases"
    )

    class Meta:
        ordering = ["target", "name"]
        constraints = [
            models.UniqueConstraint(fields=["target", "name"], name="alias_unique_name_per_target"),
            models.CheckConstraint(
                condition=(
                    Q(target="strategist")
                    & Q(strategist__isnull=False)
                    & Q(firm__isnull=True)
                    & Q(instrument__isnull=True)
                )
                | (
                    Q(target="firm")
                    & Q(firm__isnull=False)
                    & Q(strategist__isnull=True)
                    & Q(instrument__isnull=True)
                )
                | (
                    Q(target="instrument")
                    & Q(instrument__isnull=False)
                    & Q(strategist__isnull=True)
                    & Q(firm__isnull=True)
                ),
                name="alias_points_at_its_target",
            ),
        ]
        verbose_name_plural = "aliases"

    def __str__(self) -> str:
        return f"{self.name} → {self.strategist or self.firm or self.instrument}"


class LedgerEntry(models.Model):
    """One link of the hash chain of published claims.

    `digest` = SHA-256 over the previous entry's digest and this entry's
    canonical JSON `payload` (the claim as published, corrected or voided).
    `verify_ledger` recomputes the chain and compares every published
    forecast with its latest entry, so a claim changed outside the services,
    or an entry edited or removed, is detected.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    forecast = models.ForeignKey(Forecast, on_delete=models.PROTECT, related_name="ledger_entries")
    action = models.CharField(max_length=16)
    # Canonical JSON kept as text, byte for byte what was hashed.
    payload = models.TextField()
    previous_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} forecast {self.forecast_id} {self.digest[:12]}"


class ForecastEvent(models.Model):
    """The history of a forecast: who changed what, when, and why. Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", "Recorded"
        PUBLISHED = "published", "Published"
        SCORED = "scored", "Scored"
        RESCORED = "rescored", "Rescored"
        CORRECTED = "corrected", "Corrected"
        VOIDED = "voided", "Voided"
        JUDGED = "judged", "Judged by an editor"

    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for the automatic scorer.",
    )
    changes = models.JSONField(default=dict, help_text='{"field": [old, new]}')
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.forecast_id} {self.action} {self.at:%Y-%m-%d}"


class ScoringCheckpoint(models.Model):
    """How far the nightly incremental rescore has looked at an instrument (forecasts.services.scoring).

    ``complete_through``: the instrument calendar's last complete session at that run; the next run looks
    only at sessions after it (and at the forecasts those can decide). ``checked_at``: when the run started
    reading; a bar fetched after it for a session on or before ``complete_through`` arrived late, and the
    instrument is then rescored in full. Deleting a row only makes its next rescore a full one.
    """

    shown_on_pages = False  # readers see nothing of it: its writes leave cached public pages valid

    instrument = models.OneToOneField(
        Instrument, on_delete=models.CASCADE, primary_key=True, related_name="scoring_checkpoint"
    )
    complete_through = models.DateField()
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.instrument_id} through {self.complete_through}"


class SubjectAggregate(models.Model):
    """The SCORING §4 aggregates of one strategist's, firm's or instrument's published forecasts, kept by
    forecasts.services.aggregates whenever one of their forecasts changes, so that the unfiltered
    leaderboards and the summaries on the strategist, firm and instrument pages read one small row each
    instead of aggregating every forecast on each request.

    ``figures`` holds exactly the row `forecasts.selectors.leaderboards` aggregates (same keys, same
    query), so a board read from here equals one computed live; `manage.py rebuild_aggregates --check`
    proves it for the whole table.
    """

    class Scope(models.TextChoices):
        STRATEGIST = "strategist"
        FIRM = "firm"
        INSTRUMENT = "instrument"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    subject_id = models.BigIntegerField()
    figures = models.JSONField()
    # What ranking needs, as columns, so a board page is one ORDER BY ... LIMIT in SQL (a board at a million
    # forecasts has 20,000 subjects): copies of figures' counts and the skill bound from them
    # (forecasts.selectors.leaderboards.rank_columns writes all five; `rebuild_aggregates --check` checks).
    n_skill = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    bound = models.FloatField(null=True)  # skill lower bound; None below two scored forecasts
    rank_bound = models.FloatField(null=True)  # the bound rounded to 12 places: equal ones share a rank
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "subject_id"], name="aggregate_unique_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.subject_id}"
