"""Point-in-time views follow the scoring rules' own dates (issue "One way in", must-have 6)."""

from datetime import UTC, date, datetime

import pytest

from forecasts.models import Forecast, ForecastEvent, Status
from forecasts.selectors import pointintime

pytestmark = pytest.mark.django_db


def _as_of(forecast: Forecast, day: date) -> Forecast:
    (state,) = pointintime.forecasts_as_of(
        pointintime.with_events(Forecast.objects.filter(pk=forecast.pk)), day
    )
    return state


def test_an_automatic_void_holds_from_the_session_that_triggered_it(seed_forecast):
    # The job that found the bars still missing ran on 2026-03-30; the 10th session after the
    # deadline was 2026-03-02. The void holds from then, as a hit is dated by its deciding session.
    Forecast.all_objects.filter(pk=seed_forecast.pk).update(
        status=Status.VOID,
        void_reason="void: bars still missing 10 sessions after the deadline (2026-02-13)",
        voided_on=date(2026, 3, 2),
        scored_at=datetime(2026, 3, 30, 12, tzinfo=UTC),
    )
    e = ForecastEvent.objects.create(
        forecast=seed_forecast, action="scored", changes={"status": ["pending", "void"]}
    )
    ForecastEvent.objects.filter(pk=e.pk).update(at=datetime(2026, 3, 30, 12, tzinfo=UTC))
    assert _as_of(seed_forecast, date(2026, 3, 1)).status == Status.PENDING
    assert _as_of(seed_forecast, date(2026, 3, 2)).status == Status.VOID
    assert _as_of(seed_forecast, date(2026, 3, 15)).status == Status.VOID  # before the job ran


def test_the_scorer_stores_when_a_void_takes_effect(hsi, seed_forecast, settings):
    """The seed forecast with no HSI bars at all: void once 10 sessions after its deadline are done."""
    from forecasts.services import forecasts_score

    forecasts_score(hsi)
    seed_forecast.refresh_from_db()
    assert seed_forecast.status == Status.VOID
    assert seed_forecast.voided_on is not None and seed_forecast.voided_on > seed_forecast.deadline


def test_an_automatic_void_is_decided_once_the_missing_bars_arrive(hsi, seed_forecast):
    """Scored before its history was loaded, the seed is void for missing bars; the bars then arrive
    (a backfill) and the next scoring decides it: a hit on 2025-02-21, with the change in its history."""
    from django.conf import settings

    from forecasts.services import forecasts_score
    from marketdata.providers.offline import read_price_csv
    from marketdata.services import upsert_price_bars

    forecasts_score(hsi)
    seed_forecast.refresh_from_db()
    assert seed_forecast.status == Status.VOID
    upsert_price_bars(hsi, read_price_csv(settings.HINDSIGHT_OFFLINE_DATA_DIR / "HSI.csv"), source="offline")
    forecasts_score(hsi)
    seed_forecast.refresh_from_db()
    assert (seed_forecast.status, str(seed_forecast.resolved_on)) == (Status.HIT, "2025-02-21")
    assert (seed_forecast.void_reason, seed_forecast.voided_on) == ("", None)
    assert list(seed_forecast.events.filter(action="scored").values_list("changes__status", flat=True)) == [
        ["pending", "void"],
        ["void", "hit"],
    ]
