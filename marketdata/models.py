"""Instruments and their daily price bars.

Prices are stored RAW: the quotes of their own day, never adjusted for splits or
dividends, because forecast targets were quoted in those prices. Splits are kept
apart (Split) and applied by the scorer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class AssetClass(models.TextChoices):
    INDEX = "index", "Index"
    EQUITY = "equity", "Equity"
    FX = "fx", "FX"
    COMMODITY = "commodity", "Commodity"
    CRYPTO = "crypto", "Crypto"


class CalendarCode(models.TextChoices):
    XHKG = "XHKG", "Hong Kong Exchanges (XHKG)"
    XNYS = "XNYS", "New York Stock Exchange (XNYS)"
    CMES = "CMES", "CME Globex futures (CMES)"
    FX_24_5 = "24/5", "FX, Monday to Friday (24/5)"
    CRYPTO_24_7 = "24/7", "Crypto, every UTC day (24/7)"


CALENDAR_TIMEZONES = {
    CalendarCode.XHKG: "Asia/Hong_Kong",
    CalendarCode.XNYS: "America/New_York",
    CalendarCode.CMES: "America/Chicago",
    CalendarCode.FX_24_5: "UTC",
    CalendarCode.CRYPTO_24_7: "UTC",
}


class Instrument(models.Model):
    symbol = models.CharField(max_length=32, unique=True, help_text="Hindsight's own symbol, e.g. HSI, NVDA.")
    name = models.CharField(max_length=200, help_text="The English name readers see, e.g. Hang Seng Index.")
    name_zh_hant = models.CharField(
        "name (Traditional Chinese)",
        max_length=200,
        blank=True,
        help_text="E.g. 恒生指數; blank: the English name.",
    )
    name_zh_hans = models.CharField(
        "name (Simplified Chinese)",
        max_length=200,
        blank=True,
        help_text="Only where it differs from the Traditional name converted (blank: 恒生指數 -> 恒生指数).",
    )
    asset_class = models.CharField(max_length=16, choices=AssetClass.choices, default=AssetClass.INDEX)
    calendar_code = models.CharField(
        max_length=8, choices=CalendarCode.choices, help_text="Trading calendar that defines sessions."
    )
    currency = models.CharField(
        max_length=8, blank=True, help_text="ISO code, e.g. HKD; blank for index points."
    )
    provider_symbols = models.JSONField(
        default=dict, blank=True, help_text='Symbol per provider, e.g. {"yahoo": "^HSI"}.'
    )
    trading_ended_on = models.DateField(
        null=True, blank=True, help_text="Last session if the instrument stopped trading (delisted)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.CheckConstraint(
                condition=Q(calendar_code__in=CalendarCode.values), name="instrument_calendar_code_known"
            ),
            models.CheckConstraint(
                condition=Q(asset_class__in=AssetClass.values), name="instrument_asset_class_known"
            ),
        ]

    def __str__(self) -> str:
        return self.symbol

    @property
    def timezone_name(self) -> str:
        return CALENDAR_TIMEZONES[CalendarCode(self.calendar_code)]


class PriceBar(models.Model):
    """One daily bar, keyed by the exchange's session date (not the UTC day)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="bars")
    session = models.DateField(help_text="Exchange-local session date.")
    open = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    close = models.FloatField()
    volume = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=32, help_text="Provider that supplied this bar.")
    fetched_at = models.DateTimeField(db_index=True)  # the newest fetch dates every public page

    class Meta:
        ordering = ["instrument", "session"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "session"], name="pricebar_unique_instrument_session"
            ),
            models.CheckConstraint(condition=Q(close__gt=0), name="pricebar_close_positive"),
            models.CheckConstraint(
                condition=Q(high__isnull=True) | Q(low__isnull=True) | Q(high__gte=F("low")),
                name="pricebar_high_gte_low",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.session} {round(self.close, 4)}"


class Split(models.Model):
    """A stock split: from ex_date on, one old share is `ratio` new shares."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="splits")
    ex_date = models.DateField()
    ratio = models.FloatField(help_text="New shares per old share, e.g. 10 for a 10-for-1 split.")
    source = models.CharField(max_length=32)

    class Meta:
        ordering = ["instrument", "ex_date"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "ex_date"], name="split_unique_instrument_date"),
            models.CheckConstraint(condition=Q(ratio__gt=0), name="split_ratio_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.ex_date} x{self.ratio}"


class BarStatus(models.TextChoices):
    HELD = "held", "Held for review"
    RELEASED = "released", "Released (stored)"
    REJECTED = "rejected", "Rejected"


class HeldBar(models.Model):
    """An incoming bar that did not go straight into PriceBar.

    Two kinds: bars that failed a hard check (NaN close, high below close, not a
    session, in the future...) are stored here already REJECTED, so the rejection
    and its reason stay visible; bars that passed the checks but moved more than
    HINDSIGHT_SPIKE_SIGMAS standard deviations are HELD until an admin releases
    (then they are upserted into PriceBar) or rejects them. Nothing here is ever
    read by the scorer.
    """

    shown_on_pages = False  # readers see nothing of it: its writes leave cached public pages valid

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="held_bars")
    session = models.DateField(help_text="Exchange-local session date the bar claims.")
    open = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    close = models.FloatField(null=True, blank=True)
    volume = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=32)
    fetched_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=BarStatus.choices, default=BarStatus.HELD)
    reason = models.CharField(max_length=300, help_text="Why the bar was held or rejected.")
    z_score = models.FloatField(null=True, blank=True, help_text="Log return / recent sigma, for spikes.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-fetched_at", "instrument", "session"]
        indexes = [models.Index(fields=["instrument", "session", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "session"],
                condition=Q(status="held"),
                name="heldbar_one_held_per_session",
            ),
            models.CheckConstraint(condition=Q(status__in=BarStatus.values), name="heldbar_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.session} {self.status}"


class PriceBarRevision(models.Model):
    """A stored bar whose values changed: old and new values, who sent them, when."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="bar_revisions")
    session = models.DateField()
    old_values = models.JSONField(help_text="open, high, low, close, volume before.")
    new_values = models.JSONField(help_text="open, high, low, close, volume after.")
    old_source = models.CharField(max_length=32)
    new_source = models.CharField(max_length=32)
    revised_at = models.DateTimeField()

    class Meta:
        ordering = ["-revised_at", "instrument", "session"]
        indexes = [models.Index(fields=["instrument", "session"])]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.session} revised {self.revised_at:%Y-%m-%d}"

    @property
    def close_change(self) -> str:
        old, new = self.old_values.get("close"), self.new_values.get("close")
        return f"{old} -> {new}"


class FetchOutcome(models.TextChoices):
    OK = "ok", "OK"
    EMPTY = "empty", "OK, no bars"
    FAILED = "failed", "Failed"
    CIRCUIT_OPEN = "circuit_open", "Skipped: circuit open"


class FetchLog(models.Model):
    """One attempt to fetch bars from one provider, so the admin shows what each
    vendor did, how long it took, and when a fallback filled in."""

    shown_on_pages = False  # readers see nothing of it: its writes leave cached public pages valid

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="fetch_logs")
    provider = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=FetchOutcome.choices)
    error = models.TextField(blank=True)
    fallback_used = models.BooleanField(
        default=False, help_text="This provider filled in because an earlier one failed."
    )
    start = models.DateField(null=True, blank=True, help_text="First session asked for.")
    end = models.DateField(null=True, blank=True, help_text="Last session asked for.")
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    revised = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejections = models.JSONField(default=list, blank=True, help_text="Reasons, one per rejected bar.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["instrument", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.instrument_id} {self.outcome} {self.started_at:%Y-%m-%d %H:%M}"


class TaskLock(models.Model):
    """A lock row for when there is no Redis: the unique key is the lock."""

    shown_on_pages = False  # readers see nothing of it: its writes leave cached public pages valid

    key = models.CharField(max_length=200, unique=True)
    token = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key
