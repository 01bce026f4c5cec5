"""Thin tasks: ids in, a service call, retries on transient provider errors."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from marketdata import services
from marketdata.models import Instrument
from marketdata.providers.base import ProviderTransientError

log = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(ProviderTransientError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def refresh_prices(instrument_id: int) -> dict:
    """Fetch new bars for one instrument, then score what they affect.

    Idempotent: bars are upserted, and scoring a forecast twice on the same bars
    writes nothing the second time. A provider failure raises before anything is
    written, so forecasts simply stay pending.
    """
    from forecasts.tasks import score_forecasts

    instrument = Instrument.objects.get(pk=instrument_id)
    result = services.refresh_instrument_prices(instrument)
    changed = result.first_changed_session
    revised = min(result.upsert.revised_sessions) if result.upsert.revised_sessions else None
    if changed is not None:
        transaction.on_commit(
            lambda: score_forecasts.delay(
                instrument_id, revised_from=revised.isoformat() if revised else None
            )
        )
    return {
        "instrument": instrument.symbol,
        "fetched": result.fetched,
        "created": result.upsert.created,
        "revised": len(result.upsert.revised_sessions),
        "rejected": result.upsert.rejected,
    }


@shared_task(acks_late=True)
def refresh_market(calendar_code: str) -> int:
    """Fan out one refresh per active instrument of a market (the beat entry point)."""
    ids = list(
        Instrument.objects.filter(calendar_code=calendar_code, trading_ended_on__isnull=True).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        refresh_prices.delay(pk)
    return len(ids)
