"""Thin scoring task. Safe to run any number of times: a rescore on the same
bars writes nothing, and writes are compare-and-swap on the old status."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from forecasts.services import score_instrument_forecasts
from marketdata.models import Instrument


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
