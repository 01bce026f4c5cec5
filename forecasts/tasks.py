"""Thin scoring tasks. Safe to run any number of times: a rescore on the same
bars writes nothing, and writes are compare-and-swap on the old status."""

from __future__ import annotations

import logging
from contextlib import contextmanager, suppress
from datetime import date

from celery import shared_task
from django.db import DatabaseError, InterfaceError, OperationalError, connection

from forecasts.models import Forecast, Kind, Status
from forecasts.services import forecasts_rescore_incremental, forecasts_score, queueing
from marketdata.models import Instrument

log = logging.getLogger(__name__)


@contextmanager
def _one_scorer_per_instrument(instrument_id: int):
    """Two scorings of one instrument must not overlap (issue 16: a scoring still working from bars read
    before a revision would overwrite, by compare-and-swap on "pending", the rescoring that used the
    revised bars, and the stale result would stay). A PostgreSQL session advisory lock: the second
    waits for the first and then reads fresh rows; a worker that dies releases it with its connection.
    SQLite (the embedded default) runs tasks in-process, one at a time."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [SCORING_LOCK_CLASS, instrument_id])
    try:
        yield
    finally:
        # A connection lost mid-task took the lock with it; the task's own error is the one to see.
        with suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SCORING_LOCK_CLASS, instrument_id])


SCORING_LOCK_CLASS = 16_0001  # the first key of the advisory lock pair (the second is the instrument)


# A lost database connection (a PostgreSQL restart) is retried like a broken socket: the rerun is safe.
@shared_task(
    acks_late=True, autoretry_for=(OSError, OperationalError, InterfaceError), retry_backoff=10, max_retries=5
)
def score_forecasts(instrument_id: int, revised_from: str | None = None, incremental: bool = False) -> dict:
    """Score an instrument's forecasts. ``incremental`` (new bars, the sweep): only those the sessions
    completed since its last run can change (forecasts_rescore_incremental); otherwise (a forecast
    recorded or corrected, revised bars) every pending one, and with ``revised_from`` the decided ones
    those bars decided."""
    if incremental and not revised_from:
        queueing.scoring_started(instrument_id)  # before reading: a write from now on queues another run
    instrument = Instrument.objects.get(pk=instrument_id)
    with _one_scorer_per_instrument(instrument_id):
        if incremental and not revised_from:
            summary = forecasts_rescore_incremental(instrument)
        else:
            summary = forecasts_score(
                instrument, revised_from=date.fromisoformat(revised_from) if revised_from else None
            )
    return {
        "instrument": instrument.symbol,
        "mode": summary.mode if incremental and not revised_from else "full",
        "scored": summary.scored,
        "changed": summary.changed,
        "by_status": summary.by_status,
    }


@shared_task(
    acks_late=True, autoretry_for=(OSError, OperationalError, InterfaceError), retry_backoff=10, max_retries=5
)
def score_instrument_batch(instrument_ids: list[int]) -> dict:
    """The incremental rescore of a batch of instruments, one after the other, each under its scoring lock.
    Idempotent: a retry (or a redelivery after a worker died) redoes only what is still to do, since each
    instrument's run reads the stored scores and its checkpoint afresh."""
    totals = {"instruments": 0, "full": 0, "scored": 0, "changed": 0}
    for instrument in Instrument.objects.filter(pk__in=instrument_ids).order_by("pk"):
        with _one_scorer_per_instrument(instrument.pk):
            summary = forecasts_rescore_incremental(instrument)
        totals["instruments"] += 1
        totals["full"] += summary.mode == "full"
        totals["scored"] += summary.scored
        totals["changed"] += summary.changed
    return totals


#: The sweep sends one task per instrument up to this many instruments, batches above (N workers share them).
SWEEP_BATCH_FROM = 200
SWEEP_BATCH = 100


@shared_task(acks_late=True)
def score_all_pending() -> int:
    """The sweep: queue the incremental rescore of every instrument with pending forecasts.

    Runs hourly from beat, so work that could not be queued while Redis was down (see
    forecasts.services.queueing) is queued again once it is back, and the day's new bars are scored by
    whichever run comes first. Each instrument costs only what its new sessions can decide
    (forecasts_rescore_incremental); many instruments go out in batches of SWEEP_BATCH.
    """
    ids = sorted(
        set(
            Forecast.all_objects.filter(status=Status.PENDING)
            .exclude(kind=Kind.MANUAL)
            .values_list("instrument_id", flat=True)
            .distinct()
        )
    )
    if len(ids) < SWEEP_BATCH_FROM:
        for pk in ids:
            queueing.scoring_enqueue(pk, incremental=True)
        return len(ids)
    for lo in range(0, len(ids), SWEEP_BATCH):
        queueing.scoring_enqueue_batch(ids[lo : lo + SWEEP_BATCH])
    return len(ids)


@shared_task
def purge_expired_tokens() -> int:
    """Delete every expired API token (forecasts.api.auth refuses them per request without sweeping the
    user's others); how many went. Safe to run any number of times."""
    from django.utils import timezone
    from knox.models import get_token_model

    deleted, _ = get_token_model().objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
