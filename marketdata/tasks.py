"""Thin tasks: ids in, a service call, retries on transient provider errors.

Every task is idempotent (upserts on unique keys; scoring writes only what differs) and runs with
``acks_late``, so a redelivery after a crash is harmless. A per-instrument lock (Redis when
REDIS_URL is set, a TaskLock row otherwise) keeps two refreshes of one instrument from running at
once: the second returns at once with ``skipped``. The one exception is a *redelivered* message (its
worker died mid-refresh, while holding the lock): it retries once the dead holder's lease has run out
(marketdata.locks: at most LOCK_LEASE_SECONDS), so the bars are not left waiting for the next day.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from marketdata import services
from marketdata.calendars import get_calendar
from marketdata.locks import job_lock
from marketdata.models import Instrument
from marketdata.providers.base import ProviderTransientError
from marketdata.signals import announce_bars

log = logging.getLogger(__name__)

LOCK_SECONDS = 900  # the longest a refresh may hold its lock
LOCK_LEASE_SECONDS = 30  # how long the lock outlives a holder that died (it is renewed while it works)
BACKFILL_EVERY = 20 * 3600
BACKFILL_COUNTDOWN = 600


def _queue_scoring(instrument_id: int, changed: date | None, revised_from: date | None) -> None:
    """Score what new or revised bars affect, once the bars are committed."""
    if changed is None:
        return
    announce_bars(instrument_id, revised_from=revised_from)


def _lock_busy(task, instrument: Instrument) -> dict:
    """The instrument's lock is held. A redelivered message retries after one lease: if the holder was
    its own dead worker, the lock has expired by then; if the lock is still held, a live refresh holds it
    (it renews its lease) and will store the bars, so the retry skips. Any other message skips at once."""
    redelivered = bool((task.request.delivery_info or {}).get("redelivered"))
    if redelivered and task.request.retries < task.max_retries:
        log.warning(
            "%s of %s redelivered while its lock is held (a worker died holding it?); retrying in %ss",
            task.name,
            instrument.symbol,
            LOCK_LEASE_SECONDS + 2,
        )
        raise task.retry(countdown=LOCK_LEASE_SECONDS + 2)
    return {"instrument": instrument.symbol, "skipped": "a refresh of it is already running"}


def _summary(instrument: Instrument, result: services.RefreshResult | None) -> dict:
    if result is None:
        return {"instrument": instrument.symbol, "fetched": 0, "created": 0, "revised": 0, "missing": 0}
    return {
        "instrument": instrument.symbol,
        "provider": result.provider,
        "fallback_used": result.fallback_used,
        "fetched": result.fetched,
        "created": result.upsert.created,
        "revised": len(result.upsert.revised_sessions),
        "revised_sessions": [d.isoformat() for d in result.upsert.revised_sessions],
        "held": result.upsert.held,
        "rejected": result.upsert.rejected,
    }


@shared_task(
    autoretry_for=(ProviderTransientError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
    bind=True,
)
def refresh_prices(self, instrument_id: int) -> dict:
    """Fetch new bars for one instrument (primary provider, then fallbacks), then score what they
    affect. A provider failure raises before any bar is written, so forecasts simply stay pending."""
    instrument = Instrument.objects.get(pk=instrument_id)
    with job_lock(f"refresh:{instrument_id}", timeout=LOCK_SECONDS, lease=LOCK_LEASE_SECONDS) as acquired:
        if not acquired:
            return _lock_busy(self, instrument)
        result = services.prices_refresh(instrument)
        _queue_scoring(instrument_id, result.first_changed_session, result.revised_from)
        return _summary(instrument, result)


@shared_task(
    autoretry_for=(ProviderTransientError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=4,
    acks_late=True,
    bind=True,
)
def backfill_prices(self, instrument_id: int) -> dict:
    """Fill the instrument's missing sessions, back to HINDSIGHT_HISTORY_SESSIONS sessions before
    its earliest forecast. Does nothing when nothing is missing."""
    instrument = Instrument.objects.get(pk=instrument_id)
    with job_lock(f"refresh:{instrument_id}", timeout=LOCK_SECONDS, lease=LOCK_LEASE_SECONDS) as acquired:
        if not acquired:
            return _lock_busy(self, instrument)
        result = services.prices_backfill(instrument)
        if result is not None:
            _queue_scoring(instrument_id, result.first_changed_session, result.revised_from)
        return _summary(instrument, result)


def market_closed_a_session_recently(calendar_code: str, *, now=None, within_hours: int = 20) -> bool:
    """Did the market finish a session in the last ``within_hours``? False on holidays and weekends,
    so the beat entry (which fires every weekday) does not refresh a market that did not trade."""
    now = now or timezone.now()
    last = get_calendar(calendar_code).last_session_closed_at_or_before(now)
    if last is None:
        return False
    return get_calendar(calendar_code).session_close(last) >= now - timedelta(hours=within_hours)


@shared_task(acks_late=True)
def refresh_market(calendar_code: str) -> int:
    """Fan out one refresh per active instrument of a market (the beat entry point).

    Skipped (returns 0) when the market had no session that just closed: a holiday or weekend.
    """
    if not market_closed_a_session_recently(calendar_code):
        log.info("%s had no session close in the last hours (holiday?); nothing to refresh", calendar_code)
        return 0
    ids = list(
        Instrument.objects.filter(calendar_code=calendar_code, trading_ended_on__isnull=True).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        refresh_prices.delay(pk)
    backfill_gaps(calendar_code)
    return len(ids)


@shared_task(acks_late=True)
def backfill_gaps(calendar_code: str | None = None) -> int:
    """Queue a backfill for each active instrument (of one market, or all) with missing sessions in
    its wanted history, at most once per BACKFILL_EVERY per instrument (a gap the vendor never fills
    must not cost a long fetch every day). Queued 10 minutes late so it does not meet the refresh."""
    now = timezone.now()
    queued = 0
    instruments = Instrument.objects.filter(trading_ended_on__isnull=True)
    if calendar_code:
        instruments = instruments.filter(calendar_code=calendar_code)
    for instrument in instruments:
        start = services.history_start(instrument, now=now)
        if not services.missing_sessions(instrument, start, now.date(), now=now):
            continue
        if cache.add(f"hindsight:backfill-queued:{instrument.pk}", 1, timeout=BACKFILL_EVERY):
            backfill_prices.apply_async((instrument.pk,), countdown=BACKFILL_COUNTDOWN)
            queued += 1
    return queued
