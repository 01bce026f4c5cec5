"""Recording forecasts: the one way in.

Every door — the admin add form, the editor's desk, the CSV import (command and admin), the API and the
demo loader — hands what it was given to `record_source`, which decides everything once:

- **parsing**: numbers (a JSON ``true`` is not a number; ``23,200`` is), dates, the publication time;
- **input rules**: publication between 2000-01-01 and now, ``made_at`` not after it, absolute http(s)
  URLs, finite numbers, plausible targets (within a factor of 20 of the last close at ``made_at``;
  ``move_pct`` between -95 and +1,000) unless a reviewer confirms one with a reason, text stripped of
  control and bidirectional-override characters, length-limited and never empty after stripping;
- **names**: strategists, firms and instruments by name or alias; an unknown instrument is created only
  when the catalog knows its symbol; slugs of Chinese names are readable (pinyin);
- **time zones**: a date-only publication is the end of that day in the exchange time zone of the
  instrument of each forecast (SCORING §2); the Source keeps the end of the day in its first forecast's;
- **identity**: a forecast is its claim — source, strategist, instrument, kind, target, upper target,
  second instrument, basis and deadline. The same claim again is "already recorded" (re-importing a file
  changes nothing); a second claim in the same sentence is a second forecast;
- **possible duplicates** (same strategist and instrument, target within 0.5%, made within 7 days, from
  another source) are stored and flagged for a reviewer, never dropped or merged;
- **revisions**: ``supersedes`` names the earlier call a forecast revises ("raised its target to 8,800
  from 8,610"): the same strategist's, on the same instrument, made earlier and not revised yet (a chain is
  a line). Both stay on record and are scored;
- **roles**: whoever may publish (reviewers; the operator's unattended commands) publishes; everyone else
  records drafts; a flagged possible duplicate waits for a reviewer whoever recorded it;
- **scoring** is queued once the transaction commits (forecasts.services.queueing).

All or nothing: one refused field and nothing is written. `RecordingRefused.errors` names every problem
as ``{"source": {field: [..]}, "forecasts": {index: {field: [..]}}}``; each door renders that in its own
terms (a CSV row and column, a form field, an API field path).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from forecasts import services
from forecasts.models import (
    Alias,
    Basis,
    DeadlineSource,
    Firm,
    Forecast,
    Kind,
    Source,
    Status,
    Strategist,
)
from forecasts.services import aggregates, queueing
from marketdata.catalog import KNOWN_INSTRUMENTS
from marketdata.models import Instrument, PriceBar
from marketdata.services import get_or_create_instrument

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
PLAUSIBLE_FACTOR = 20.0
MOVE_PCT_MIN, MOVE_PCT_MAX = -95.0, 1000.0
MAX_YEARS_AHEAD = 5
DUPLICATE_TOLERANCE = 0.005
DUPLICATE_DAYS = 7
# Longest text each field may hold (after cleaning).
LIMITS = {
    "url": 1000,
    "publication": 200,
    "title": 500,
    "language": 16,
    "article_text": 200_000,
    "strategist": 200,
    "firm": 200,
    "quote": 2000,
    "instrument": 64,
    "other_instrument": 64,
    "reason": 1000,
}
# Control characters (Cc) and format characters (Cf: zero-width spaces and joiners, bidirectional
# overrides and isolates, the BOM) never belong in a record; line breaks and tabs survive only in
# multi-line fields.
_KEEP_IN_MULTILINE = {"\n", "\t"}
_URL = URLValidator(schemes=["http", "https"])


@dataclass
class SourceInput:
    """The article, as a door received it (strings, or already-parsed dates)."""

    url: str
    publication: str
    published: str | date | datetime
    title: str = ""
    language: str = "en"
    article_text: str = ""


@dataclass
class ForecastInput:
    """One quoted claim, as a door received it. Names may be strings or records."""

    strategist: str | Strategist
    quote: str
    instrument: str | Instrument
    kind: str
    firm: str | Firm | None = ""
    target: object = None
    target_upper: object = None
    other_instrument: str | Instrument | None = None
    basis: str | None = Basis.CLOSE
    deadline: str | date | None = None
    deadline_source: str | None = None
    made_at: str | datetime | None = None
    # The editor says a possible duplicate is another call (kept in the history).
    not_duplicate: bool = False
    # A reviewer confirms a target outside the plausible band; the reason goes into the history.
    confirm_implausible: bool = False
    confirm_reason: str = ""
    # The earlier forecast (id) this one revises, e.g. "raised its target to 8,800 from 8,610".
    supersedes: int | Forecast | None = None


@dataclass
class Recorded:
    forecast: Forecast
    created: bool
    possible_duplicates: list[Forecast] = field(default_factory=list)


@dataclass
class RecordingResult:
    source: Source
    source_created: bool
    items: list[Recorded]
    dry_run: bool = False

    @property
    def created(self) -> list[Forecast]:
        return [r.forecast for r in self.items if r.created]

    @property
    def existing(self) -> list[Forecast]:
        return [r.forecast for r in self.items if not r.created]

    @property
    def flagged(self) -> list[Forecast]:
        return [r.forecast for r in self.items if r.created and r.possible_duplicates]


class RecordingRefused(Exception):
    """Nothing was written. `errors`: {"source": {field: [msg]}, "forecasts": {i: {field: [msg]}}}."""

    def __init__(self, source_errors: dict[str, list[str]], forecast_errors: dict[int, dict[str, list[str]]]):
        self.source_errors = source_errors
        self.forecast_errors = forecast_errors
        super().__init__("; ".join(self.lines()))

    @property
    def errors(self) -> dict:
        return {"source": self.source_errors, "forecasts": self.forecast_errors}

    def lines(self) -> list[str]:
        out = [f"{f}: {m}" for f, msgs in self.source_errors.items() for m in msgs]
        for i, errs in sorted(self.forecast_errors.items()):
            out += [f"forecast {i + 1}, {f}: {m}" for f, msgs in errs.items() for m in msgs]
        return out


class FieldErrors(dict):
    """{field: [messages]} collected while checking; every door renders it in its own terms."""

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)


# --- cleaning and parsing, once for every door ------------------------------------------------------


def clean_text(value, name: str, errors: FieldErrors, *, required: bool, multiline: bool = False) -> str:
    """Strip control and format characters, normalise spaces, enforce the length limit."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(name, f"Expected text, got {type(value).__name__}.")
        return ""
    value = unicodedata.normalize("NFC", value)
    kept = "".join(
        ch
        for ch in value
        if (multiline and ch in _KEEP_IN_MULTILINE) or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    if multiline:
        kept = "\n".join(" ".join(line.split()) for line in kept.replace("\r", "").split("\n")).strip()
    else:
        kept = " ".join(kept.split())
    if required and not kept:
        had_text = bool(value.strip())
        errors.add(
            name,
            "Is empty once invisible and control characters are removed."
            if had_text
            else "This field is required.",
        )
    limit = LIMITS.get(name)
    if limit and len(kept) > limit:
        errors.add(name, f"Too long: {len(kept):,} characters; at most {limit:,}.")
    return kept


def parse_number(value, name: str, errors: FieldErrors) -> float | None:
    """A finite number from a JSON number or text like '23,200'; booleans and NaN are refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors.add(name, f"Expected a number, got {str(value).lower()}.")
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        try:
            number = float(text)
        except ValueError:
            errors.add(name, f"{value!r} is not a number.")
            return None
    else:
        errors.add(name, f"Expected a number, got {type(value).__name__}.")
        return None
    if not math.isfinite(number):
        errors.add(name, f"{value!r} is not a finite number.")
        return None
    return number


def parse_published(value, errors: FieldErrors) -> date | datetime | None:
    """An ISO date (date-only) or a datetime with its UTC offset, between 2000-01-01 and now."""
    parsed: date | datetime | None
    if isinstance(value, date):  # a datetime is a date too
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = parse_date(text) if len(text) == 10 else parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            errors.add(
                "published",
                f"{text!r}: use a date (2025-02-14) or a time with its offset (2025-02-14T16:10+08:00).",
            )
            return None
    else:
        errors.add("published", "The publication date is required.")
        return None
    if isinstance(parsed, datetime):
        if timezone.is_naive(parsed):
            errors.add("published", "A publication time needs its UTC offset, e.g. 2025-02-14T16:10+08:00.")
            return None
        if not EARLIEST <= parsed <= timezone.now():
            errors.add("published", f"{parsed.isoformat()} is not between 2000-01-01 and now.")
            return None
    elif not EARLIEST.date() <= parsed <= _latest_local_date():
        errors.add("published", f"{parsed.isoformat()} is not between 2000-01-01 and today.")
        return None
    return parsed


def _latest_local_date() -> date:
    """Today somewhere: a date-only publication may carry the date of a time zone ahead of UTC."""
    return (timezone.now() + timedelta(hours=14)).date()


def parse_date_field(value, name: str, errors: FieldErrors) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        errors.add(name, "Expected a date (YYYY-MM-DD), not a time.")
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            parsed = parse_date(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    errors.add(name, f"{value!r} is not a date (YYYY-MM-DD).")
    return None


def parse_made_at(value, errors: FieldErrors) -> datetime | None:
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        errors.add("made_at", f"{value!r} is not a time with its offset (2025-02-14T16:10+08:00).")
        return None
    if timezone.is_naive(parsed):
        errors.add("made_at", "made_at needs its UTC offset, e.g. 2025-02-14T16:10+08:00.")
        return None
    return parsed


def check_url(value: str, errors: FieldErrors) -> None:
    if not value:
        return
    try:
        _URL(value)
    except ValidationError:
        errors.add("url", f"{value!r} is not an absolute http:// or https:// address.")


def resolve_instrument(value, name: str, errors: FieldErrors) -> Instrument | None:
    """By record, symbol or alias; a symbol the catalog knows is created (its prices come later)."""
    if isinstance(value, Instrument):
        return value
    text = clean_text(value, name, errors, required=True)
    if not text:
        return None
    found = services.instrument_by_name(text)
    bundled = text if text in KNOWN_INSTRUMENTS else services.bundled_symbol(text)
    if found is None and bundled in KNOWN_INSTRUMENTS:
        found = get_or_create_instrument(bundled)[0]  # 恒指 before any HSI price was loaded
    if found is None:
        errors.add(
            name, f"Unknown instrument {text!r}: use a symbol or alias Hindsight knows, or add it first."
        )
    return found


def last_close(instrument: Instrument, at: datetime) -> tuple[date, float] | None:
    """The last stored close on or before `at`'s local date (None without bars)."""
    local = at.astimezone(ZoneInfo(instrument.timezone_name)).date()
    row = (
        PriceBar.objects.filter(instrument=instrument, session__lte=local)
        .order_by("-session")
        .values_list("session", "close")
        .first()
    )
    return (row[0], row[1]) if row else None


def implausible(kind: str, target: float | None, upper: float | None, close: tuple[date, float] | None):
    """Why the target is beyond what a market can do, or None."""
    if kind == Kind.MOVE_PCT:
        if target is not None and not MOVE_PCT_MIN <= target <= MOVE_PCT_MAX:
            return (
                "target",
                f"A move of {target:+,g}% is outside {MOVE_PCT_MIN:g}% … +{MOVE_PCT_MAX:,g}%.",
            )
        return None
    if close is None:
        return None
    session, price = close
    for name, level in (("target", target), ("target_upper", upper)):
        if (
            level is not None
            and level > 0
            and not price / PLAUSIBLE_FACTOR <= level <= price * PLAUSIBLE_FACTOR
        ):
            return (
                name,
                f"{level:,g} is more than {PLAUSIBLE_FACTOR:g} times away from the last close "
                f"({price:,.2f} on {session}).",
            )
    return None


# --- the one way in ----------------------------------------------------------------------------------


def can_publish(actor) -> bool:
    """Reviewers publish; so do the operator's unattended commands (no actor)."""
    return actor is None or actor.has_perm("forecasts.publish_forecast")


def record_source(
    source: SourceInput | Source,
    forecasts: Sequence[ForecastInput],
    *,
    actor=None,
    dry_run: bool = False,
) -> RecordingResult:
    """Record an article and the forecasts it quotes, all or nothing (see the module docstring).

    Raises RecordingRefused naming every bad field; PermissionDenied when the actor may not record.
    """
    if actor is not None and not actor.has_perm("forecasts.add_forecast"):
        raise PermissionDenied("Your role cannot record forecasts.")
    source_errors, item_errors = FieldErrors(), {i: FieldErrors() for i in range(len(forecasts))}
    if not forecasts:
        source_errors.add("forecasts", "Give at least one forecast.")
    with transaction.atomic(), aggregates.batched():  # the boards' figures refreshed once, not per row
        if isinstance(source, Source):
            source_row, published, clean_source = source, None, None
        else:
            clean_source = _clean_source(source, source_errors)
            published = clean_source.pop("published")
            source_row = None
        items = [_clean_item(item, item_errors[i], actor) for i, item in enumerate(forecasts)]
        first_instrument = next((it["instrument"] for it in items if it.get("instrument")), None)
        source_created = False
        if (
            source_row is None
            and clean_source is not None
            and not source_errors
            and published is not None
            and first_instrument
        ):
            source_row, source_created = _source_get_or_create(
                clean_source, published, first_instrument, actor, source_errors
            )
        recorded: list[Recorded] = []
        if source_row is not None:
            for i, item in enumerate(items):
                if item_errors[i]:
                    continue
                _check_claim(item, source_row, item_errors[i])
                if item_errors[i]:
                    continue
                try:
                    with transaction.atomic():
                        recorded.append(_record_one(item, source_row, actor))
                except ValidationError as exc:
                    for name, messages in exc.message_dict.items():
                        for m in messages:
                            item_errors[i].add("made_at" if name == "__all__" else name, m)
                except IntegrityError as exc:  # a database rule the checks above did not foresee
                    item_errors[i].add("non_field_errors", f"The database refused this forecast ({exc}).")
        errors_by_item = {i: dict(e) for i, e in item_errors.items() if e}
        if source_errors or errors_by_item:
            transaction.set_rollback(True)
            raise RecordingRefused(dict(source_errors), errors_by_item)
        if dry_run:
            transaction.set_rollback(True)
        else:
            # Incremental: a new forecast has never been scored, which is what the incremental rescore
            # picks first; a full scoring would score every pending forecast of the instrument again
            # for each one recorded (in make load, most of the worker's time and a quarter of the CPU).
            queueing.scoring_enqueue_on_commit(
                {f.forecast.instrument_id for f in recorded if f.created and f.forecast.kind != Kind.MANUAL}
                | {
                    f.forecast.other_instrument_id
                    for f in recorded
                    if f.created and f.forecast.other_instrument_id
                },
                incremental=True,
            )
    assert source_row is not None  # without a source row an error was recorded and RecordingRefused raised
    return RecordingResult(source_row, source_created, recorded, dry_run=dry_run)


def record_forecast(source: SourceInput | Source, forecast: ForecastInput, **kwargs) -> Recorded:
    """One forecast (the admin add form): record_source with a single item."""
    return record_source(source, [forecast], **kwargs).items[0]


def _clean_source(source: SourceInput, errors: FieldErrors) -> dict:
    url = clean_text(source.url, "url", errors, required=True)
    check_url(url, errors)
    return {
        "url": url,
        "publication": clean_text(source.publication, "publication", errors, required=True),
        "title": clean_text(source.title, "title", errors, required=False),
        "language": clean_text(source.language or "en", "language", errors, required=True),
        "article_text": clean_text(
            source.article_text, "article_text", errors, required=False, multiline=True
        ),
        "published": parse_published(source.published, errors),
    }


def _clean_item(item: ForecastInput, errors: FieldErrors, actor) -> dict:
    out: dict = {"input": item}
    if isinstance(item.strategist, Strategist):
        out["strategist"] = item.strategist
    else:
        out["strategist_name"] = clean_text(item.strategist, "strategist", errors, required=True)
    if isinstance(item.firm, Firm):
        out["firm"] = item.firm
    else:
        out["firm_name"] = clean_text(item.firm, "firm", errors, required=False)
    out["quote"] = clean_text(item.quote, "quote", errors, required=True, multiline=True)
    kind = clean_text(item.kind, "kind", errors, required=True)
    if kind and kind not in Kind.values:
        errors.add("kind", f"Unknown kind {kind!r}; expected one of {', '.join(Kind.values)}.")
    out["kind"] = kind
    basis = clean_text(item.basis or Basis.CLOSE, "basis", errors, required=True)
    if basis and basis not in Basis.values:
        errors.add("basis", f"Unknown basis {basis!r}; expected 'close' or 'intraday'.")
    out["basis"] = basis
    out["target"] = parse_number(item.target, "target", errors)
    out["target_upper"] = parse_number(item.target_upper, "target_upper", errors)
    out["deadline"] = parse_date_field(item.deadline, "deadline", errors)
    source_of_deadline = clean_text(item.deadline_source or "", "deadline_source", errors, required=False)
    if source_of_deadline and source_of_deadline not in DeadlineSource.values:
        errors.add(
            "deadline_source",
            f"Unknown deadline source {source_of_deadline!r}; expected stated, implied or none.",
        )
    if not source_of_deadline:
        source_of_deadline = DeadlineSource.STATED if out["deadline"] else DeadlineSource.NONE
    out["deadline_source"] = source_of_deadline
    out["made_at"] = parse_made_at(item.made_at, errors)
    out["instrument"] = resolve_instrument(item.instrument, "instrument", errors)
    out["other_instrument"] = (
        resolve_instrument(item.other_instrument, "other_instrument", errors)
        if item.other_instrument not in (None, "")
        else None
    )
    if item.confirm_implausible:
        if not can_publish(actor):
            errors.add("confirm_reason", "Only a reviewer can confirm an implausible target.")
        out["confirm_reason"] = clean_text(item.confirm_reason, "confirm_reason", errors, required=True)
    out["supersedes"] = item.supersedes
    return out


def _source_get_or_create(data: dict, published, instrument: Instrument, actor, errors: FieldErrors):
    """The Source for the URL; a date-only publication is the end of that day in the first forecast's
    exchange time zone. An existing source must agree on the publication."""
    if isinstance(published, datetime):
        published_at, date_only = published, False
    else:
        published_at, date_only = services.end_of_day(published, instrument.timezone_name), True
    existing = Source.objects.filter(url=data["url"]).first()
    if existing is not None:
        agrees = (
            existing.published_date_only and existing.published_on == published
            if date_only
            else not existing.published_date_only and existing.published_at == published_at
        )
        if not agrees:
            recorded = (existing.published_date_only and existing.published_on) or existing.published_at
            errors.add(
                "published",
                f"{data['url']} is already recorded as published {recorded.isoformat()}, "
                f"not {published.isoformat()}.",
            )
            return None, False
        return existing, False
    text = data["article_text"]
    source = Source.objects.create(
        **data,
        published_at=published_at,
        published_date_only=date_only,
        published_on=published if date_only else None,
        text_sha256=services.sha256_text(text) if text else "",
        created_by=actor,
    )
    return source, True


def _publication_in(source: Source, instrument: Instrument) -> datetime:
    """When the source became public for a forecast on `instrument`: its instant, or for a date-only
    source the end of that day in the instrument's exchange time zone (SCORING §2)."""
    if source.published_date_only and source.published_on is not None:
        return services.end_of_day(source.published_on, instrument.timezone_name)
    return source.published_at


def _check_claim(item: dict, source: Source, errors: FieldErrors) -> None:
    """The rules that need the source: made_at in range and not after the publication, plausibility."""
    given = item["made_at"] is not None
    published_by = _publication_in(source, item["instrument"])
    made_at = item["made_at"] = item["made_at"] if given else published_by
    if made_at < EARLIEST:
        errors.add("made_at", f"{made_at.isoformat()} is before 2000-01-01.")
    if made_at > published_by:
        errors.add(
            "made_at",
            f"{made_at.isoformat()} is after the publication ({published_by.isoformat()}): "
            "a forecast is made when it becomes public.",
        )
    if given and made_at > timezone.now():
        errors.add("made_at", f"{made_at.isoformat()} is in the future.")
    _resolve_supersedes(item, made_at, errors)
    deadline = item["deadline"]
    latest = timezone.now().date() + timedelta(days=366 * MAX_YEARS_AHEAD)
    if deadline is not None and not EARLIEST.date() <= deadline <= latest:
        errors.add(
            "deadline",
            f"{deadline} is not between 2000-01-01 and {MAX_YEARS_AHEAD} years from today "
            "(the trading calendars' reach).",
        )
        return
    try:
        services.validate_claim(
            kind=item["kind"],
            target=item["target"],
            target_upper=item["target_upper"],
            instrument=item["instrument"],
            other_instrument=item["other_instrument"],
            basis=item["basis"],
            made_at=made_at,
            deadline=item["deadline"],
            deadline_source=item["deadline_source"],
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for m in messages:
                errors.add(name, m)
        return
    if item["kind"] in (Kind.MANUAL, Kind.DIRECTION_UP, Kind.DIRECTION_DOWN, Kind.OUTPERFORM):
        return
    close = last_close(item["instrument"], made_at)
    problem = implausible(item["kind"], item["target"], item["target_upper"], close)
    if problem and not item["input"].confirm_implausible:
        name, message = problem
        errors.add(name, f"{message} A reviewer can confirm it explicitly, with a reason.")
    elif problem:
        item["implausible_note"] = problem[1]


def _resolve_supersedes(item: dict, made_at: datetime, errors: FieldErrors) -> None:
    """`supersedes` (an id or a record) as the earlier forecast: on the same instrument and made earlier
    (the same strategist and not yet revised are checked once the strategist is known: _check_revision)."""
    supersedes = item["supersedes"]
    item["supersedes"] = None
    if supersedes in (None, ""):
        return
    earlier = (
        supersedes
        if isinstance(supersedes, Forecast)
        else Forecast.all_objects.select_related("instrument", "strategist").filter(pk=int(text)).first()
        if (text := str(supersedes).strip().lstrip("#")).isascii()
        and text.isdigit()
        and len(text) <= 18
        and not isinstance(supersedes, bool)
        else None
    )
    if earlier is None:
        errors.add("supersedes", f"No forecast #{supersedes} to revise.")
    elif earlier.instrument_id != item["instrument"].pk:
        errors.add("supersedes", f"#{earlier.pk} is about {earlier.instrument.symbol}, not this instrument.")
    elif earlier.made_at >= made_at:
        errors.add("supersedes", f"#{earlier.pk} was made after this forecast; a revision comes later.")
    else:
        item["supersedes"] = earlier


def _record_one(item: dict, source: Source, actor) -> Recorded:
    firm = item.get("firm") or services.firm_get_or_create(item.get("firm_name", ""))
    strategist, new_person = (
        (item["strategist"], False)
        if item.get("strategist")
        else services.strategist_match_or_create(item["strategist_name"], firm=firm)
    )
    instrument, kind = item["instrument"], item["kind"]
    deadline = item["deadline"] or services.default_deadline(item["made_at"], instrument.timezone_name)
    # The claim's own fields: what makes two records the same claim, and what the new one is made of.
    claim = {
        "strategist": strategist,
        "instrument": instrument,
        "kind": kind,
        "target": item["target"],
        "target_upper": item["target_upper"],
        "other_instrument": item["other_instrument"],
        "basis": item["basis"],
    }
    # A person created just now has no calls: nothing to be the same claim, a duplicate or revised.
    same = (
        None if new_person else Forecast.all_objects.filter(source=source, deadline=deadline, **claim).first()
    )
    if same is not None:
        return Recorded(same, created=False)
    _check_revision(item["supersedes"] or None, strategist)
    dupes = (
        []
        if new_person
        else possible_duplicates(
            strategist=strategist,
            instrument=instrument,
            target=item["target"],
            made_at=item["made_at"],
            source=source,
        )
    )
    notes = []
    if item.get("implausible_note"):
        notes.append(
            f"Target confirmed by a reviewer although {item['implausible_note']} {item['confirm_reason']}"
        )
    if dupes and item["input"].not_duplicate:
        notes.append(
            "Recorded as a separate call although similar to "
            + ", ".join(f"#{f.pk}" for f in dupes)
            + " (the editor said it is not a duplicate)."
        )
    forecast = services.forecast_create(
        **claim,
        firm=firm,
        source=source,
        quote=item["quote"],
        deadline=item["deadline"],
        deadline_source=item["deadline_source"],
        made_at=item["made_at"],
        actor=actor,
        publish=False,
        note=" ".join(notes),
        possible_duplicate_of=dupes[0] if dupes and not item["input"].not_duplicate else None,
        supersedes=item["supersedes"] or None,
    )
    if can_publish(actor) and (not dupes or item["input"].not_duplicate):
        services.forecast_publish(forecast, actor=actor)
    return Recorded(forecast, created=True, possible_duplicates=dupes)


def _check_revision(earlier: Forecast | None, strategist: Strategist) -> None:
    """The rules of a revision that need the strategist: the same person's call, not already revised
    (a chain of revisions is a line: each call is revised at most once). The rest is in _check_claim."""
    if earlier is None:
        return
    if earlier.strategist_id != strategist.pk:
        owner = earlier.strategist.name
        raise ValidationError(
            {"supersedes": f"#{earlier.pk} is {owner}'s call: a revision is the same person's."}
        )
    later = Forecast.all_objects.filter(supersedes=earlier).values_list("pk", flat=True).first()
    if later is not None:
        raise ValidationError({"supersedes": f"#{earlier.pk} is already revised by #{later}."})


def open_calls_to_revise(strategist, instrument, before: datetime | None = None) -> list[Forecast]:
    """What a new call by `strategist` on `instrument` may revise: their pending calls on it made before
    `before`, not revised yet, newest first (the editor's desk proposes them). Names or records."""
    if not isinstance(strategist, Strategist):
        name = " ".join(str(strategist or "").split())
        if not name:
            return []
        strategist = Strategist.objects.filter(name__iexact=name).first()
        if strategist is None:
            alias = Alias.objects.filter(target=Alias.Target.STRATEGIST, name__iexact=name).first()
            strategist = alias.strategist if alias is not None else None
    if not isinstance(instrument, Instrument):
        instrument = services.instrument_by_name(str(instrument or "")) if instrument else None
    if strategist is None or instrument is None:
        return []
    qs = Forecast.all_objects.filter(
        strategist=strategist, instrument=instrument, status=Status.PENDING, revised_by__isnull=True
    )
    if before is not None:
        qs = qs.filter(made_at__lt=before)
    return list(qs.order_by("-made_at", "-pk")[:5])


def possible_duplicates(
    *, strategist: Strategist, instrument: Instrument, target: float | None, made_at: datetime, source: Source
) -> list[Forecast]:
    """Probably the same call reported elsewhere: same strategist and instrument, target within 0.5%,
    made within 7 days, from another source."""
    qs = Forecast.all_objects.filter(
        strategist=strategist,
        instrument=instrument,
        made_at__gte=made_at - timedelta(days=DUPLICATE_DAYS),
        made_at__lte=made_at + timedelta(days=DUPLICATE_DAYS),
    ).exclude(source=source)
    if target is not None:
        tolerance = abs(target) * DUPLICATE_TOLERANCE
        qs = qs.filter(target__gte=target - tolerance, target__lte=target + tolerance)
    else:
        qs = qs.filter(target__isnull=True)
    return list(qs.select_related("source").order_by("pk")[:10])
