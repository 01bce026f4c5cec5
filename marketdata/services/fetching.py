"""Fetching prices: the provider chain with fallbacks, refreshes and backfills of the wanted history."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketdata.calendars import CalendarRangeError, get_calendar
from marketdata.models import (
    FetchLog,
    FetchOutcome,
    Instrument,
)
from marketdata.providers.base import (
    PriceProvider,
    ProviderError,
    ProviderTransientError,
    validate_bars,
)
from marketdata.resilience import CircuitOpen, guarded_call
from marketdata.selectors import missing_sessions
from marketdata.services.bars import UpsertResult, ingest_bars, store_splits
from marketdata.services.instruments import instrument_ref
from marketdata.signals import earliest_interest

log = logging.getLogger(__name__)


def get_provider(name: str | None = None) -> PriceProvider:
    """The configured price provider (settings.HINDSIGHT_PRICE_PROVIDER)."""
    name = name or settings.HINDSIGHT_PRICE_PROVIDER
    if name == "offline":
        from marketdata.providers.offline import OfflineCSVProvider

        return OfflineCSVProvider(settings.HINDSIGHT_OFFLINE_DATA_DIR)
    if name == "yahoo":
        from marketdata.providers.yahoo import YahooProvider

        return YahooProvider(timeout=settings.HINDSIGHT_PROVIDER_TIMEOUT)
    if name == "akshare":
        from marketdata.providers.akshare_hk import AkshareHKProvider

        return AkshareHKProvider()
    if name == "ccxt":
        from marketdata.providers.ccxt_crypto import CCXTProvider

        return CCXTProvider(timeout=settings.HINDSIGHT_PROVIDER_TIMEOUT)
    raise ValueError(f"unknown price provider {name!r}; expected offline, yahoo, akshare or ccxt")


def provider_chain(instrument: Instrument) -> list[str]:
    """Provider names to try for `instrument`, primary first, then its calendar's fallbacks."""
    names = [settings.HINDSIGHT_PRICE_PROVIDER]
    for name in settings.HINDSIGHT_FALLBACK_PROVIDERS.get(instrument.calendar_code, []):
        if name not in names:
            names.append(name)
    return names


# --- fetching with fallback -------------------------------------------------------------------


@dataclass
class FetchResult:
    provider: str
    bars: pd.DataFrame
    splits: pd.DataFrame
    fallback_used: bool
    log: FetchLog


def fetch_with_fallback(
    instrument: Instrument,
    start: date,
    end: date,
    *,
    providers: list[PriceProvider | str] | None = None,
) -> FetchResult:
    """Bars and splits from the first provider of the chain that answers.

    Every attempt leaves a FetchLog row (provider, outcome, error, time taken, whether it was a
    fallback). A provider whose circuit is open is skipped without being called. If every
    provider fails, the last error is raised: a ``ProviderTransientError`` if any failure was
    transient (so the task retries later), else the last error.
    """
    chain = providers if providers is not None else provider_chain(instrument)
    ref = instrument_ref(instrument)
    errors: list[ProviderError] = []
    for position, entry in enumerate(chain):
        provider = get_provider(entry) if isinstance(entry, str) else entry
        started, t0 = timezone.now(), time.monotonic()
        entry_log = FetchLog(
            instrument=instrument,
            provider=provider.name,
            started_at=started,
            fallback_used=position > 0,
            start=start,
            end=end,
        )
        try:
            bars = guarded_call(provider.name, functools.partial(provider.fetch_daily_bars, ref, start, end))
            bars = validate_bars(bars, source=provider.name, symbol=instrument.symbol)
            splits = guarded_call(provider.name, functools.partial(provider.fetch_splits, ref, start, end))
        except ProviderError as exc:
            open_circuit = isinstance(exc, CircuitOpen)
            entry_log.outcome = FetchOutcome.CIRCUIT_OPEN if open_circuit else FetchOutcome.FAILED
            entry_log.error = f"{type(exc).__name__}: {exc}"[:2000]
            entry_log.duration_ms = int((time.monotonic() - t0) * 1000)
            entry_log.save()
            errors.append(exc)
            log.warning("%s: %s failed: %s", instrument.symbol, provider.name, exc)
            continue
        entry_log.outcome = FetchOutcome.OK if len(bars) else FetchOutcome.EMPTY
        entry_log.rows = len(bars)
        entry_log.duration_ms = int((time.monotonic() - t0) * 1000)
        entry_log.save()
        if position > 0:
            log.warning("%s: primary failed; %s filled in", instrument.symbol, provider.name)
        return FetchResult(provider.name, bars, splits, position > 0, entry_log)
    transient = [e for e in errors if isinstance(e, ProviderTransientError)]
    if transient:
        raise transient[-1]
    raise errors[-1] if errors else ProviderError(f"{instrument.symbol}: no provider configured")


@dataclass
class RefreshResult:
    instrument_id: int
    fetched: int
    upsert: UpsertResult
    provider: str = ""
    fallback_used: bool = False
    changed_splits: list[date] = field(default_factory=list)

    @property
    def first_changed_session(self) -> date | None:
        candidates = [d for d in (self.upsert.first_changed_session, *self.changed_splits) if d]
        return min(candidates) if candidates else None

    @property
    def revised_from(self) -> date | None:
        """Earliest session whose stored bar (or split) changed: decided forecasts must look again."""
        candidates = [*self.upsert.revised_sessions, *self.changed_splits]
        return min(candidates) if candidates else None


def prices_refresh(
    instrument: Instrument,
    *,
    provider: PriceProvider | None = None,
    now: datetime | None = None,
    start: date | None = None,
) -> RefreshResult:
    """Fetch recent bars for one instrument, gate them and store what passes.

    Starts a few days before the newest stored bar (so vendor revisions are seen) or, for a
    new instrument, far enough back for the volatility estimate (``history_start``). Uses the
    provider chain (primary, then fallbacks) unless ``provider`` is given. If every provider
    fails the error propagates (the task retries) and nothing is written but the FetchLog rows.
    """
    now = now or timezone.now()
    today = now.date()
    if start is None:
        newest = instrument.bars.order_by("-session").values_list("session", flat=True).first()
        if newest is None:
            start = min(today - timedelta(days=settings.HINDSIGHT_BACKFILL_DAYS), history_start(instrument))
        else:
            start = newest - timedelta(days=settings.HINDSIGHT_REFRESH_OVERLAP_DAYS)
    fetched = fetch_with_fallback(instrument, start, today, providers=[provider] if provider else None)
    frame = fetched.bars
    with transaction.atomic():
        # Splits first: the spike check must not take a split for a crash.
        changed_splits = store_splits(instrument, fetched.splits, source=fetched.provider)
        upsert = ingest_bars(instrument, frame, source=fetched.provider, now=now, fetched_at=now)
        entry = fetched.log
        entry.created, entry.revised = upsert.created, upsert.updated
        entry.held, entry.rejected = len(upsert.held), len(upsert.rejected)
        entry.rejections = (upsert.rejected + upsert.held)[:200]
        entry.save(update_fields=["created", "revised", "held", "rejected", "rejections"])
    log.info(
        "refreshed %s from %s: %d fetched, %d new, %d revised, %d held, %d rejected",
        instrument.symbol,
        fetched.provider,
        len(frame),
        upsert.created,
        upsert.updated,
        len(upsert.held),
        len(upsert.rejected),
    )
    return RefreshResult(
        instrument_id=instrument.pk,
        fetched=len(frame),
        upsert=upsert,
        provider=fetched.provider,
        fallback_used=fetched.fallback_used,
        changed_splits=changed_splits,
    )


def history_start(instrument: Instrument, *, now: datetime | None = None) -> date:
    """First session the instrument's history should reach: HINDSIGHT_HISTORY_SESSIONS sessions
    before its earliest forecast's baseline (or before today if it has no forecast yet)."""
    now = now or timezone.now()
    calendar = get_calendar(instrument.calendar_code)
    anchor = now.date()
    made = earliest_interest(instrument)  # e.g. the earliest forecast on it (forecasts listens)
    if made is not None:
        anchor = min(anchor, made.astimezone(calendar.tz).date())
    try:
        anchor_session = calendar.last_session_on_or_before(anchor) or calendar.first_date
    except CalendarRangeError:
        anchor_session = calendar.last_session_on_or_before(calendar.last_date) or calendar.first_date
    days = calendar.sessions
    i = int(days.searchsorted(pd.Timestamp(anchor_session).to_datetime64().astype("datetime64[D]")))
    return days[max(0, i - settings.HINDSIGHT_HISTORY_SESSIONS)].astype(object)


def prices_backfill(
    instrument: Instrument, *, now: datetime | None = None, provider: PriceProvider | None = None
) -> RefreshResult | None:
    """Fetch from the first missing session of the wanted history on; None if nothing is missing."""
    now = now or timezone.now()
    gaps = missing_sessions(instrument, history_start(instrument, now=now), now.date(), now=now)
    if not gaps:
        return None
    return prices_refresh(instrument, provider=provider, now=now, start=gaps[0])
