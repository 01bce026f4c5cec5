"""API representations. Output serializers only shape data; writes go through forecasts.services."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from forecasts.models import Basis, DeadlineSource, Firm, Forecast, Kind, Source, Strategist
from forecasts.site.presentation import describe_claim
from marketdata.models import Instrument, PriceBar
from marketdata.names import instrument_name, instrument_names

# The trading calendars reach from 2000 to about six years ahead (METHODOLOGY §5.21).
EARLIEST = date(2000, 1, 1)
MAX_YEARS_AHEAD = 5

# --- reads ---------------------------------------------------------------------------------------------


class FirmRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Firm
        fields = ["slug", "name"]


class FirmSerializer(serializers.ModelSerializer):
    class Meta:
        model = Firm
        fields = ["slug", "name", "website"]


class StrategistSerializer(serializers.ModelSerializer):
    firm = FirmRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Strategist
        fields = ["slug", "name", "title", "firm"]


class InstrumentSerializer(serializers.ModelSerializer):
    names = serializers.SerializerMethodField(
        help_text='What readers call it, per site language: {"en": "Hang Seng Index", "zh-hant": "恒生指數", '
        '"zh-hans": "恒生指数"}. `name` is the English one; `symbol` is the key the API takes.'
    )

    class Meta:
        model = Instrument
        fields = ["symbol", "name", "names", "asset_class", "calendar_code", "currency", "trading_ended_on"]

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_names(self, obj: Instrument) -> dict[str, str]:
        return instrument_names(obj)


class PriceBarSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceBar
        fields = ["session", "open", "high", "low", "close", "volume"]


class SourceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ["publication", "url", "title", "published_at"]


class SourceSerializer(serializers.ModelSerializer):
    forecasts = serializers.SerializerMethodField(help_text="Ids of the published forecasts it quotes.")

    class Meta:
        model = Source
        fields = [
            "id",
            "publication",
            "url",
            "title",
            "published_at",
            "published_date_only",
            "language",
            "forecasts",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_forecasts(self, obj: Source) -> list[int]:
        return [f.pk for f in getattr(obj, "published_forecasts", [])]


class ProgressSerializer(serializers.Serializer):
    """How far a pending forecast's window has got (computed when read)."""

    sessions_complete = serializers.IntegerField()
    window_sessions = serializers.IntegerField()


class ForecastSerializer(serializers.ModelSerializer):
    strategist = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    strategist_name = serializers.CharField(source="strategist.name", read_only=True)
    firm = serializers.CharField(source="firm.name", read_only=True, default=None, allow_null=True)
    instrument = serializers.SlugRelatedField(slug_field="symbol", read_only=True)
    other_instrument = serializers.SlugRelatedField(slug_field="symbol", read_only=True, allow_null=True)
    instrument_name = serializers.SerializerMethodField(
        help_text="The instrument's name in the request's language (Hang Seng Index; 恒生指數 on /zh-hant/)."
    )
    source = SourceRefSerializer(read_only=True)
    claim = serializers.SerializerMethodField(help_text="The claim in plain words.")
    progress = serializers.SerializerMethodField(
        help_text="Pending only (else null): sessions_complete of window_sessions, computed when read "
        "(the sessions of the instrument's calendar from window_start that have closed; a session whose "
        "bar is still missing shows in awaiting_data and status_note)."
    )

    class Meta:
        model = Forecast
        fields = [
            "id",
            "strategist",
            "strategist_name",
            "firm",
            "source",
            "quote",
            "instrument",
            "instrument_name",
            "kind",
            "target",
            "target_upper",
            "other_instrument",
            "basis",
            "made_at",
            "deadline",
            "deadline_source",
            "claim",
            "status",
            "status_note",
            "progress",
            "awaiting_data",
            "resolved_on",
            "resolution_price",
            "baseline",
            "baseline_date",
            "window_start",
            "window_end",
            "difficulty",
            "skill",
            "window_return",
            "benchmark_return",
            "scorer_version",
            "void_reason",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "difficulty": {
                "help_text": "The chance by luck p: how likely a driftless random walk with the market's "
                "volatility was to make the claim come true (0.89 = an easy call, 0.05 = a bold one). "
                "Boldness is 1 - p; skill is outcome - p. Named `difficulty` for compatibility."
            },
            "skill": {"help_text": "Outcome (1 hit, 0 miss) minus the chance by luck (`difficulty`)."},
        }

    def get_claim(self, obj: Forecast) -> str:
        return describe_claim(obj)

    def get_instrument_name(self, obj: Forecast) -> str:
        return instrument_name(obj.instrument)

    @extend_schema_field(ProgressSerializer(allow_null=True))
    def get_progress(self, obj: Forecast) -> dict | None:
        from forecasts.selectors.progress import calendar_progress

        found = calendar_progress(obj)  # no query: lists keep their query budget
        return None if found is None else found.as_dict()


class ForecastDetailSerializer(ForecastSerializer):
    """One forecast, with the revisions around it (both calls stay on record and are scored)."""

    supersedes = serializers.IntegerField(
        source="supersedes_published",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Id of the same strategist's earlier call this one revises (null if none).",
    )
    superseded_by = serializers.IntegerField(
        source="superseded_by_published",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Id of the strategist's later call that revises this one (null if none).",
    )

    class Meta(ForecastSerializer.Meta):
        fields = [*ForecastSerializer.Meta.fields, "supersedes", "superseded_by"]
        read_only_fields = fields


class SummarySerializer(serializers.Serializer):
    """SCORING §4 figures (selectors.Summary.as_dict)."""

    forecasts = serializers.IntegerField()
    resolved = serializers.IntegerField(help_text="hits + misses")
    hits = serializers.IntegerField()
    misses = serializers.IntegerField()
    pending = serializers.IntegerField()
    void = serializers.IntegerField()
    hit_rate = serializers.FloatField(allow_null=True)
    hit_rate_wilson_low = serializers.FloatField(allow_null=True, help_text="Wilson 95% interval, low end.")
    hit_rate_wilson_high = serializers.FloatField(allow_null=True)
    skill_scored = serializers.IntegerField(
        help_text="Hits and misses with a known chance by luck (`difficulty`), so with a skill."
    )
    mean_skill = serializers.FloatField(allow_null=True, help_text="Mean of outcome - p: hits above chance.")
    mean_skill_se = serializers.FloatField(allow_null=True)
    skill_points = serializers.FloatField(help_text="Sum of skill.")
    skill_lower_bound = serializers.FloatField(
        allow_null=True, help_text="mean_skill - 1.96 x SE: what the leaderboard ranks by."
    )
    mean_boldness = serializers.FloatField(
        allow_null=True, help_text="Mean of 1 - difficulty: how unlikely the calls were to come true by luck."
    )
    mean_directional_return = serializers.FloatField(allow_null=True)
    mean_directional_excess_return = serializers.FloatField(allow_null=True)


class TrackRecordStrategistSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    firm = serializers.CharField(allow_null=True)
    title = serializers.CharField(allow_blank=True)


class StrategistTrackRecordSerializer(serializers.Serializer):
    strategist = TrackRecordStrategistSerializer()
    as_of = serializers.DateField(allow_null=True, help_text="The date it stands at; null: now.")
    summary = SummarySerializer()
    forecasts = ForecastSerializer(many=True)


class FirmTrackRecordSerializer(serializers.Serializer):
    firm = FirmSerializer()
    as_of = serializers.DateField(allow_null=True, help_text="The date it stands at; null: now.")
    summary = SummarySerializer()
    forecasts = ForecastSerializer(many=True)


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(
        allow_null=True, help_text="Null: fewer scored forecasts than min_resolved. Ties share a rank."
    )
    slug = serializers.CharField()
    name = serializers.CharField()
    firm = FirmRefSerializer(allow_null=True, help_text="The strategist's firm (null on the firm board).")
    summary = SummarySerializer()


class LeaderboardSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    by = serializers.ChoiceField(choices=["strategist", "firm"])
    as_of = serializers.DateField(allow_null=True)
    min_resolved = serializers.IntegerField()
    ranking = serializers.CharField(help_text="How the board ranks, in words.")
    results = LeaderboardRowSerializer(many=True)


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Messages per field; nested fields are dotted, e.g. "forecasts.0.target".',
    )


class ErrorSerializer(serializers.Serializer):
    """Every error, whatever its status."""

    error = ErrorDetailSerializer()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send as "Authorization: Token <token>".')
    expiry = serializers.DateTimeField(allow_null=True)
    username = serializers.CharField()


# --- query parameters -------------------------------------------------------------------------------


class AsOfQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="YYYY-MM-DD: as it stood at the end of that date (UTC). Omit for now.",
    )


class LeaderboardQuerySerializer(AsOfQuerySerializer):
    by = serializers.ChoiceField(choices=["strategist", "firm"], default="strategist")
    market = serializers.CharField(required=False, default="", help_text="Calendar code, e.g. XHKG.")
    instrument = serializers.CharField(
        required=False,
        default="",
        help_text="Instrument symbol or alias, e.g. HSI, 恒指, 恒生指数, Hang Seng.",
    )
    firm = serializers.CharField(required=False, default="", help_text="Firm slug.")
    strategist = serializers.CharField(required=False, default="", help_text="Strategist slug.")
    kind = serializers.ChoiceField(choices=Kind.choices, required=False, default="")
    status = serializers.ChoiceField(
        choices=[("pending", "Pending"), ("hit", "Hit"), ("miss", "Miss"), ("void", "Void")],
        required=False,
        default="",
        help_text="Only forecasts with this status (as of `as_of` when given).",
    )
    made_from = serializers.DateField(required=False, default=None, help_text="Made on or after (UTC date).")
    made_to = serializers.DateField(required=False, default=None, help_text="Made on or before (UTC date).")

    def validate(self, attrs):
        if attrs.get("made_from") and attrs.get("made_to") and attrs["made_from"] > attrs["made_to"]:
            raise serializers.ValidationError({"made_to": "made_to is before made_from."})
        return attrs


class BarsQuerySerializer(serializers.Serializer):
    # "from" is a keyword; the fields are renamed in to_internal_value.
    start = serializers.DateField(required=False, default=None)
    end = serializers.DateField(required=False, default=None)

    def to_internal_value(self, data):
        renamed = {"start": data.get("from"), "end": data.get("to")}
        try:
            return super().to_internal_value({k: v for k, v in renamed.items() if v not in (None, "")})
        except serializers.ValidationError as exc:
            names = {"start": "from", "end": "to"}
            raise serializers.ValidationError({names.get(k, k): v for k, v in exc.detail.items()}) from None

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"to": "'to' is before 'from'."})
        return attrs


# --- writes ------------------------------------------------------------------------------------------


class FiniteFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool):
            raise serializers.ValidationError(f"Expected a number, got {str(data).lower()}.")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError("A finite number is required.")
        return value


@extend_schema_field(OpenApiTypes.STR)
class PublishedField(serializers.Field):
    """An ISO date (2025-02-14) or a datetime with a UTC offset (2025-02-14T16:10+08:00)."""

    default_error_messages = {
        "invalid": "Expected an ISO date (2025-02-14) or a datetime with offset (2025-02-14T16:10+08:00).",
        "naive": "A publication time needs a UTC offset, e.g. 2025-02-14T16:10+08:00.",
        "range": "The publication date must be between 2000-01-01 and today.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        value: date | datetime
        try:
            value = date.fromisoformat(data) if len(data) == 10 else parse_datetime(data)
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        if isinstance(value, datetime) and timezone.is_naive(value):
            self.fail("naive")
        day = value.date() if isinstance(value, datetime) else value
        if not EARLIEST <= day <= timezone.now().date() + timedelta(days=1):
            self.fail("range")
        return value

    def to_representation(self, value):
        return value.isoformat()


@extend_schema_field(OpenApiTypes.NUMBER)
class RawNumberField(serializers.Field):
    """A number (or numeric text such as "23,200") handed as given to the recording service, whose
    one parser refuses booleans, NaN and infinity with the same words on every door."""

    def to_internal_value(self, data):
        if isinstance(data, dict | list):
            raise serializers.ValidationError("Expected a number.")
        return data

    def to_representation(self, value):
        return value


class ForecastInputSerializer(serializers.Serializer):
    """One quoted forecast of a source, in the CSV import's terms. Only the shape is checked here:
    the rules are forecasts.services.recording's, the same on every door."""

    strategist = serializers.CharField(trim_whitespace=False, help_text="Name (or alias); created if new.")
    firm = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")
    quote = serializers.CharField(trim_whitespace=False, help_text="The verbatim words.")
    instrument = serializers.CharField(help_text="Symbol or alias, e.g. HSI, 恒指.")
    kind = serializers.ChoiceField(choices=Kind.choices)
    target = RawNumberField(required=False, allow_null=True, default=None)
    target_upper = RawNumberField(required=False, allow_null=True, default=None)
    other_instrument = serializers.CharField(required=False, allow_null=True, default=None)
    basis = serializers.ChoiceField(choices=Basis.choices, default=Basis.CLOSE)
    deadline = serializers.CharField(
        required=False, allow_null=True, default=None, help_text="ISO date (exchange-local, inclusive)."
    )
    deadline_source = serializers.ChoiceField(
        choices=DeadlineSource.choices, required=False, allow_null=True, default=None
    )
    made_at = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        help_text="ISO datetime with offset; defaults to the source's publication (not after it).",
    )
    not_duplicate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A similar forecast from another source is a separate call (else it is held for review).",
    )
    confirm_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Reviewers only: confirm a target far outside the plausible range, with the reason.",
    )
    supersedes = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Id of the earlier forecast this revises."
    )


class SourceCreateSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The article's absolute http(s) address.")
    publication = serializers.CharField(trim_whitespace=False)
    title = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")
    published = serializers.CharField(
        help_text="ISO date (each forecast is made at the end of that day in its exchange's time zone) "
        "or a datetime with offset; between 2000-01-01 and now."
    )
    language = serializers.CharField(max_length=16, required=False, default="en")
    article_text = serializers.CharField(required=False, allow_blank=True, default="")
    forecasts = ForecastInputSerializer(many=True, min_length=1, max_length=200)


class SourceCreatedSerializer(serializers.Serializer):
    source = SourceSerializer()
    forecasts = ForecastSerializer(many=True)
    created = serializers.ListField(
        child=serializers.BooleanField(), help_text="Per forecast: false when the claim was already recorded."
    )
    held_for_review = serializers.ListField(
        child=serializers.BooleanField(),
        help_text="Per forecast: true when it awaits a reviewer (a draft, or a possible duplicate).",
    )


class CorrectionChangesSerializer(serializers.Serializer):
    """Claim fields to change; any subset."""

    quote = serializers.CharField(required=False)
    instrument = serializers.CharField(max_length=32, required=False, help_text="Symbol.")
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    target = FiniteFloatField(required=False, allow_null=True)
    target_upper = FiniteFloatField(required=False, allow_null=True)
    other_instrument = serializers.CharField(max_length=32, required=False, allow_null=True)
    basis = serializers.ChoiceField(choices=Basis.choices, required=False)
    made_at = serializers.DateTimeField(required=False)
    deadline = serializers.DateField(required=False)
    deadline_source = serializers.ChoiceField(choices=DeadlineSource.choices, required=False)

    def validate_deadline(self, value):
        return _not_too_far(value)

    def validate_made_at(self, value):
        return _made_at(value)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({k: ["This field cannot be corrected."] for k in unknown})
        return super().to_internal_value(data)


class CorrectionSerializer(serializers.Serializer):
    changes = CorrectionChangesSerializer()
    reason = serializers.CharField(help_text="Published with the correction.")


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Published with the void.")


class OutlookRecordSerializer(serializers.Serializer):
    resolved = serializers.IntegerField(help_text="The author's decided (hit or miss) calls, on any market.")
    mean_skill = serializers.FloatField(allow_null=True)
    weight = serializers.FloatField(help_text="max(0.1, 1 + 2 x resolved/(resolved+5) x mean skill).")


class OutlookCallSerializer(serializers.Serializer):
    forecast = ForecastSerializer()
    level = serializers.FloatField(allow_null=True, help_text="The level the call names; null if none.")
    record = OutlookRecordSerializer()


class OutlookPointSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="The month-end.")
    calls = serializers.IntegerField()
    weighted = serializers.FloatField()
    median = serializers.FloatField()
    horizon = serializers.DateField(help_text="The median deadline of the calls open then.")
    outcome = serializers.FloatField(allow_null=True, help_text="The close on the horizon, once known.")
    weighted_error = serializers.FloatField(allow_null=True)
    median_error = serializers.FloatField(allow_null=True)


class OutlookSerializer(serializers.Serializer):
    instrument = InstrumentSerializer()
    today = serializers.DateField()
    last_close = serializers.SerializerMethodField()
    weighted = serializers.FloatField(allow_null=True, help_text="The track-record-weighted consensus level.")
    median = serializers.FloatField(allow_null=True, help_text="The plain median of the open calls' levels.")
    calls = OutlookCallSerializer(many=True)
    history = OutlookPointSerializer(many=True)
    weighted_mean_error = serializers.FloatField(allow_null=True)
    median_mean_error = serializers.FloatField(allow_null=True)

    @extend_schema_field(
        serializers.DictField(child=serializers.CharField(), allow_null=True, help_text="{session, close}")
    )
    def get_last_close(self, obj) -> dict | None:
        if obj.last_close is None:
            return None
        return {"session": obj.last_close[0].isoformat(), "close": obj.last_close[1]}


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(required=False)
    password = serializers.CharField(required=False, style={"input_type": "password"})


def _not_too_far(value: date | None) -> date | None:
    if value is not None and not (
        EARLIEST <= value <= timezone.now().date() + timedelta(days=366 * MAX_YEARS_AHEAD)
    ):
        raise serializers.ValidationError(
            f"The deadline must be between {EARLIEST} and {MAX_YEARS_AHEAD} years from today."
        )
    return value


def _made_at(value: datetime | None) -> datetime | None:
    if value is not None and not (value.date() >= EARLIEST and value <= timezone.now() + timedelta(days=1)):
        raise serializers.ValidationError("made_at must be between 2000-01-01 and now.")
    return value
