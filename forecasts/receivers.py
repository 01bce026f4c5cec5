"""forecasts' answers to marketdata's signals (connected in ForecastsConfig.ready)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Q

from forecasts.services import dataversion, queueing


def bump_data_version(sender, **kwargs) -> None:
    """Bars were stored or revised (bulk writes send no model signals): pages showing prices are stale."""
    dataversion.bump_now()


def score_on_new_bars(sender, *, instrument_id: int, revised_from: date | None = None, **kwargs) -> None:
    """Bars of an instrument were stored or revised (sent after their commit): queue its scoring, only
    what the new sessions can change when no bar was revised."""
    queueing.scoring_enqueue(instrument_id, revised_from=revised_from, incremental=revised_from is None)


def earliest_forecast(sender, *, instrument, **kwargs) -> datetime | None:
    """The earliest made_at of any forecast on the instrument (as A or as B of an outperform)."""
    from forecasts.models import Forecast

    return (
        Forecast.all_objects.filter(Q(instrument=instrument) | Q(other_instrument=instrument))
        .order_by("made_at")
        .values_list("made_at", flat=True)
        .first()
    )
