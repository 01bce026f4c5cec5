"""Thin scoring tasks. Safe to run any number of times: a rescore on the same
bars writes nothing, and writes are compare-and-swap on the old status."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from kombu.exceptions import OperationalError as BrokerError

from forecasts.models import Forecast, Kind, Status
from forecasts.services import score_instrument_forecasts
from marketdata.models import Instrument

log = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=10, max_retries=5)
def score_forecasts(instrument_id: int, revised_from: str | None = None) -> dict:
    instrument = Instrument.objects.get(pk=instrument_id)
    summary = score_instrument_forecasts(
        instrument, revised_from=date.fromisoformat(revised_from) if revised_from else None
    )
    return {
        "instrument": instrument.symbol,
        "scored": summary.scored,
        "changed": summary.changed,
        "by_status": summary.by_status,
    }


@shared_task(acks_late=True)
def score_all_pending() -> int:
    """The sweep: queue scoring for every instrument with pending forecasts.

    Runs hourly from beat, so work that could not be queued while Redis was
    down (see enqueue_scoring) is queued again once it is back.
    """
    ids = set(
        Forecast.all_objects.filter(status=Status.PENDING)
        .exclude(kind=Kind.MANUAL)
        .values_list("instrument_id", flat=True)
        .distinct()
    )
    for pk in sorted(ids):
        score_forecasts.delay(pk)
    return len(ids)


def enqueue_scoring(instrument_id: int) -> bool:
    """Queue scoring from a web request without failing the request if the broker is down.

    Returns False when the broker could not be reached; the hourly sweep
    (score_all_pending) picks the work up once it is back.
    """
    try:
        score_forecasts.delay(instrument_id)
    except (BrokerError, OSError) as exc:
        log.warning("could not queue scoring for instrument %s (broker down?): %s", instrument_id, exc)
        return False
    return True
