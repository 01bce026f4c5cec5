"""What strategists expect now: open calls, the track-record-weighted consensus and its record."""

from datetime import date

import pytest

from forecasts.models import Forecast, Status
from forecasts.selectors.outlook import Record, implied_level, instrument_outlook, weighted_median
from tests.factories import InstrumentFactory, SourceFactory, StrategistFactory, make_forecast

TODAY = date(2025, 3, 1)


def test_weighted_median_by_hand():
    assert weighted_median([]) is None
    assert weighted_median([(100.0, 1.0)]) == 100.0
    # Weights 1, 1, 3: half of 5 is 2.5, reached at the third level.
    assert weighted_median([(100.0, 1.0), (300.0, 3.0), (200.0, 1.0)]) == 300.0
    # Equal weights: the lower middle on an exact split, the middle otherwise.
    assert weighted_median([(100.0, 1.0), (200.0, 1.0)]) == 100.0
    assert weighted_median([(100.0, 1.0), (200.0, 1.0), (300.0, 1.0)]) == 200.0


@pytest.mark.parametrize(
    ("resolved", "total", "weight"),
    [
        (0, 0.0, 1.0),  # a newcomer counts 1
        (5, 1.5, 1.0 + 2 * 0.5 * 0.3),  # mean +0.3 shrunk by 5/(5+5): 1.3
        (20, 6.0, 1.0 + 2 * 0.8 * 0.3),  # the same mean over 20 calls: 1.48
        (20, -16.0, 0.1),  # far worse than chance: the floor
    ],
)
def test_author_weight_by_hand(resolved, total, weight):
    assert Record(resolved, total).weight == pytest.approx(weight)


@pytest.mark.django_db
def test_implied_levels():
    inst = InstrumentFactory()
    assert implied_level(make_forecast(instrument=inst, kind="range", target=90, target_upper=110)) == 100
    move = make_forecast(instrument=inst, kind="move_pct", target=10)
    assert implied_level(move) is None  # no baseline yet
    move.baseline = 200.0
    assert implied_level(move) == pytest.approx(220.0)
    assert implied_level(make_forecast(instrument=inst, kind="direction_up", target=None)) is None


@pytest.mark.django_db
def test_consensus_weighs_calls_by_their_authors_records():
    inst = InstrumentFactory()
    good, new, poor = StrategistFactory(), StrategistFactory(), StrategistFactory()
    other = InstrumentFactory()
    # Track records made elsewhere: good has 5 hits of skill +0.6 (weight 1.6), poor 5 misses of -0.5 (0.5).
    for person, skill, status in ((good, 0.6, Status.HIT), (poor, -0.5, Status.MISS)):
        for _ in range(5):
            f = make_forecast(instrument=other, strategist=person, source=SourceFactory())
            Forecast.all_objects.filter(pk=f.pk).update(
                status=status, skill=skill, resolved_on=date(2025, 1, 2)
            )
    calls = {
        good: 26000.0,
        new: 24000.0,
        poor: 22000.0,
    }
    for person, level in calls.items():
        make_forecast(instrument=inst, strategist=person, target=level, deadline=date(2025, 12, 31))
    outlook = instrument_outlook(inst, today=TODAY, history=False)
    weights = {c.forecast.strategist: round(c.record.weight, 6) for c in outlook.calls}
    assert weights == {good: 1.6, new: 1.0, poor: 0.5}
    # Sorted levels 22,000 (0.5), 24,000 (1.0), 26,000 (1.6): half of 3.1 is 1.55, reached at 26,000.
    assert (outlook.weighted, outlook.median) == (26000.0, 24000.0)
    assert [c.forecast.strategist for c in outlook.calls] == [good, new, poor]  # most trusted first


@pytest.mark.django_db
def test_only_open_calls_count():
    inst = InstrumentFactory()
    open_call = make_forecast(instrument=inst, target=100.0, deadline=date(2025, 12, 31))
    past = make_forecast(instrument=inst, target=200.0, deadline=date(2025, 2, 28))
    decided = make_forecast(instrument=inst, target=300.0, deadline=date(2025, 12, 31))
    Forecast.all_objects.filter(pk=decided.pk).update(status=Status.HIT, resolved_on=date(2025, 2, 20))
    draft = make_forecast(instrument=inst, target=400.0, deadline=date(2025, 12, 31), publish=False)
    ids = {c.forecast.pk for c in instrument_outlook(inst, today=TODAY, history=False).calls}
    assert ids == {open_call.pk}
    assert {past.pk, decided.pk, draft.pk}.isdisjoint(ids)


@pytest.mark.django_db
def test_the_consensus_record_on_real_prices(client, demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        body = client.get("/api/instruments/HSI/outlook/").json()
    assert body["calls"] and body["weighted"] is not None and body["median"] is not None
    scored = [p for p in body["history"] if p["outcome"] is not None]
    assert scored, "the bundled HSI history decides some month-ends"
    for p in scored:
        assert p["weighted_error"] == pytest.approx(abs(p["weighted"] / p["outcome"] - 1))
        assert p["horizon"] > p["on"]
    mean = sum(p["weighted_error"] for p in scored) / len(scored)
    assert body["weighted_mean_error"] == pytest.approx(mean)


@pytest.mark.django_db
def test_the_instrument_page_shows_what_strategists_expect_now(client, demo):
    html = client.get("/instruments/HSI/").content.decode()
    assert 'id="expect-now"' in html and "Consensus weighted by track record" in html
    assert 'id="open-calls"' in html and "How such a consensus fared" in html
    chart = client.get("/instruments/HSI/").context["chart"]
    assert chart["calls"] and all(c["to"] >= c["from"] for c in chart["calls"])
    assert chart["consensus"]
