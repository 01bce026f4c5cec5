"""Writes for market data: instruments, idempotent bar upserts, refreshes.

The only place that turns provider DataFrames into rows. Every write is an
upsert on a unique key, so running any of these twice changes nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketdata.calendars import get_calendar
from marketdata.catalog import spec_for_symbol
from marketdata.models import Instrument, PriceBar, Split
from marketdata.providers.base import InstrumentRef, PriceProvider, validate_bars

log = logging.getLogger(__name__)

PRICE_FIELDS = ("open", "high", "low", "close", "volume")
UPSERT_BATCH = 2000


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Sessions whose stored values changed (revisions), oldest first.
    revised_sessions: list[date] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    # Earliest session that is new or revised: scoring must look again from here.
    first_changed_session: date | None = None

    @property
    def written(self) -> int:
        return self.created + self.updated


def instrument_ref(instrument: Instrument) -> InstrumentRef:
    return InstrumentRef(
        symbol=instrument.symbol,
        calendar_code=instrument.calendar_code,
        timezone=instrument.timezone_name,
        provider_symbols=dict(instrument.provider_symbols or {}),
    )


def get_or_create_instrument(symbol: str) -> tuple[Instrument, bool]:
    """The instrument for `symbol`, creating it from the catalog (or a guess) if new."""
    spec = spec_for_symbol(symbol)
    return Instrument.objects.get_or_create(
        symbol=spec.symbol,
        defaults={
            "name": spec.name,
            "asset_class": spec.asset_class,
            "calendar_code": spec.calendar_code,
            "currency": spec.currency,
            "provider_symbols": dict(spec.provider_symbols),
        },
    )


def get_provider(name: str | None = None) -> PriceProvider:
    """The configured price provider (settings.HINDSIGHT_PRICE_PROVIDER)."""
    name = name or settings.HINDSIGHT_PRICE_PROVIDER
    if name == "offline":
        from marketdata.providers.offline import OfflineCSVProvider

        return OfflineCSVProvider(settings.HINDSIGHT_OFFLINE_DATA_DIR)
    if name == "yahoo":
        from marketdata.providers.yahoo import YahooProvider

        return YahooProvider()
    raise ValueError(f"unknown price provider {name!r}; expected 'offline' or 'yahoo'")


def finished_sessions_only(
    bars: pd.DataFrame, calendar_code: str, *, now: datetime
) -> tuple[pd.DataFrame, list[str]]:
    """Keep bars for sessions of the calendar that have closed by `now`.

    Returns the kept frame and a list of human-readable rejections. Today's
    unfinished bar is never stored as a close, and a bar dated on a holiday or
    weekend is reported rather than stored.
    """
    calendar = get_calendar(calendar_code)
    keep: list[bool] = []
    rejected: list[str] = []
    for ts in bars.index:
        day = ts.date()
        if not calendar.is_session(day):
            rejected.append(f"{day}: not a {calendar_code} session")
            keep.append(False)
        elif calendar.session_close(day) > now:
            rejected.append(f"{day}: session not closed yet")
            keep.append(False)
        else:
            keep.append(True)
    return bars[keep], rejected


def _same(a: float | None, b: float | None) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def upsert_price_bars(
    instrument: Instrument,
    bars: pd.DataFrame,
    *,
    source: str,
    fetched_at: datetime | None = None,
) -> UpsertResult:
    """Insert new bars and update changed ones, in one transaction.

    `bars` follows the provider contract (index: session dates; columns open,
    high, low, close, volume). Identical bars are left alone (their source and
    fetch time too), so re-importing a file is a no-op. Bulk writes with
    INSERT .. ON CONFLICT DO UPDATE on (instrument, session).
    """
    result = UpsertResult()
    if bars.empty:
        return result
    fetched_at = fetched_at or timezone.now()
    sessions = [ts.date() for ts in bars.index]
    existing = {
        row[0]: row[1:]
        for row in PriceBar.objects.filter(
            instrument=instrument, session__gte=min(sessions), session__lte=max(sessions)
        ).values_list("session", *PRICE_FIELDS)
    }
    to_write: list[PriceBar] = []
    changed: list[date] = []
    for day, row in zip(sessions, bars.itertuples(index=False), strict=True):
        values = tuple(_clean(getattr(row, f)) for f in PRICE_FIELDS)
        old = existing.get(day)
        if old is not None and all(_same(o, n) for o, n in zip(old, values, strict=True)):
            result.unchanged += 1
            continue
        if old is None:
            result.created += 1
        else:
            result.updated += 1
            result.revised_sessions.append(day)
        changed.append(day)
        to_write.append(
            PriceBar(
                instrument=instrument,
                session=day,
                **dict(zip(PRICE_FIELDS, values, strict=True)),
                source=source,
                fetched_at=fetched_at,
            )
        )
    with transaction.atomic():
        for start in range(0, len(to_write), UPSERT_BATCH):
            PriceBar.objects.bulk_create(
                to_write[start : start + UPSERT_BATCH],
                update_conflicts=True,
                unique_fields=["instrument", "session"],
                update_fields=[*PRICE_FIELDS, "source", "fetched_at"],
            )
    result.first_changed_session = min(changed) if changed else None
    if result.revised_sessions:
        log.info(
            "%s: %d bars revised by %s: %s",
            instrument.symbol,
            len(result.revised_sessions),
            source,
            ", ".join(map(str, result.revised_sessions[:10])),
        )
    return result


def upsert_splits(instrument: Instrument, splits: pd.DataFrame, *, source: str) -> int:
    """Store split events (index ex_date, column ratio). Returns how many are new or changed."""
    count = 0
    for ts, ratio in splits["ratio"].items() if not splits.empty else []:
        _, created = Split.objects.update_or_create(
            instrument=instrument, ex_date=ts.date(), defaults={"ratio": float(ratio), "source": source}
        )
        count += int(created)
    return count


@dataclass
class RefreshResult:
    instrument_id: int
    fetched: int
    upsert: UpsertResult

    @property
    def first_changed_session(self) -> date | None:
        return self.upsert.first_changed_session


def refresh_instrument_prices(
    instrument: Instrument,
    *,
    provider: PriceProvider | None = None,
    now: datetime | None = None,
    start: date | None = None,
) -> RefreshResult:
    """Fetch recent bars for one instrument and upsert them.

    Starts a few days before the newest stored bar (so vendor revisions are
    seen) or, for a new instrument, far enough back for the volatility estimate.
    Provider errors propagate: the caller (a task) decides whether to retry, and
    nothing is written on failure.
    """
    provider = provider or get_provider()
    now = now or timezone.now()
    today = now.date()
    if start is None:
        newest = instrument.bars.order_by("-session").values_list("session", flat=True).first()
        if newest is None:
            start = today - timedelta(days=settings.HINDSIGHT_BACKFILL_DAYS)
        else:
            start = newest - timedelta(days=settings.HINDSIGHT_REFRESH_OVERLAP_DAYS)
    ref = instrument_ref(instrument)
    frame = validate_bars(provider.fetch_daily_bars(ref, start, today), source=provider.name)
    frame, rejected = finished_sessions_only(frame, instrument.calendar_code, now=now)
    upsert = upsert_price_bars(instrument, frame, source=provider.name, fetched_at=now)
    upsert.rejected = rejected
    splits = provider.fetch_splits(ref, start, today)
    upsert_splits(instrument, splits, source=provider.name)
    log.info(
        "refreshed %s from %s: %d fetched, %d new, %d revised, %d rejected",
        instrument.symbol,
        provider.name,
        len(frame),
        upsert.created,
        upsert.updated,
        len(rejected),
    )
    return RefreshResult(instrument_id=instrument.pk, fetched=len(frame), upsert=upsert)


def bars_frame(instrument_id: int, *, until: date | None = None) -> pd.DataFrame:
    """All stored bars of an instrument as the scorer wants them: index session
    (DatetimeIndex), columns open, high, low, close (float, NaN for blanks)."""
    qs = PriceBar.objects.filter(instrument_id=instrument_id)
    if until is not None:
        qs = qs.filter(session__lte=until)
    rows = list(qs.order_by("session").values_list("session", "open", "high", "low", "close"))
    frame = pd.DataFrame(rows, columns=["session", "open", "high", "low", "close"])
    frame["session"] = pd.to_datetime(frame["session"])
    frame = frame.set_index("session")
    return frame.astype("float64")


def instruments_by_symbol(symbols: Iterable[str]) -> dict[str, Instrument]:
    return {i.symbol: i for i in Instrument.objects.filter(symbol__in=list(symbols))}
