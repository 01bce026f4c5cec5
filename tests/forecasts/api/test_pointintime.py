"""Point-in-time track records and leaderboards (forecasts.selectors.pointintime, ?as_of= in the API)."""

from datetime import UTC, date, datetime

import pytest

from forecasts.models import Forecast, ForecastEvent, Kind, Status
from forecasts.selectors import leaderboard, pointintime, summarize
from forecasts.services import forecasts_score
from tests.factories import StrategistFactory, make_forecast

pytestmark = pytest.mark.django_db

A = ForecastEvent.Action
SEED_HIT = date(2025, 2, 21)  # the session the seed forecast touched 23,200


@pytest.fixture(autouse=True)
def _api_errors(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "EXCEPTION_HANDLER": "forecasts.api.errors.exception_handler",
    }


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def event(forecast, action, at: datetime, **changes):
    """A history event recorded at `at` (ForecastEvent.at is auto_now_add, so set it afterwards)."""
    e = ForecastEvent.objects.create(forecast=forecast, action=action, changes=changes)
    ForecastEvent.objects.filter(pk=e.pk).update(at=at)
    return e


def decided(forecast, **fields) -> Forecast:
    """Give a forecast a present score without running the scorer."""
    Forecast.all_objects.filter(pk=forecast.pk).update(**fields)
    forecast.refresh_from_db()
    return forecast


@pytest.fixture
def seed_hit(seed_forecast):
    """The seed forecast scored a hit on 2025-02-21, by the job that ran after that session."""
    f = decided(
        seed_forecast,
        status=Status.HIT,
        resolved_on=SEED_HIT,
        resolution_price=23477.92,
        baseline=22620.33,
        difficulty=0.4,
        skill=0.6,
        scored_at=utc(2025, 2, 21, 9),
    )
    event(f, A.SCORED, utc(2025, 2, 21, 9), status=["pending", "hit"], resolved_on=[None, "2025-02-21"])
    return f


def one(qs, as_of: date):
    states = pointintime.forecasts_as_of(pointintime.with_events(qs), as_of)
    return states[0] if states else None


def test_before_made_absent_then_pending_then_hit_with_real_scoring(hsi_with_prices, seed_forecast):
    forecasts_score(hsi_with_prices)
    qs = Forecast.objects.filter(pk=seed_forecast.pk)
    assert qs.get().status == Status.HIT and qs.get().resolved_on == SEED_HIT
    assert one(qs, date(2025, 2, 13)) is None  # made at the end of 14 Feb (HK)
    for day in (date(2025, 2, 14), date(2025, 2, 20)):
        state = one(qs, day)
        assert state.status == Status.PENDING
        assert (state.resolved_on, state.resolution_price, state.skill) == (None, None, None)
    state = one(qs, SEED_HIT)
    present = qs.get()
    assert state.status == Status.HIT and state.resolved_on == SEED_HIT
    assert state.resolution_price == present.resolution_price and state.skill == present.skill


def test_a_future_date_gives_the_present(seed_hit):
    later = make_forecast(strategist=seed_hit.strategist, instrument=seed_hit.instrument, target=30000)
    qs = Forecast.objects.filter(strategist=seed_hit.strategist).order_by("-made_at", "pk")
    record = pointintime.track_record_as_of(qs, date(2100, 1, 1))
    assert [f.pk for f in record.forecasts] == [f.pk for f in qs]
    for state, present in zip(record.forecasts, qs, strict=True):
        for name in ("status", "resolved_on", "resolution_price", "baseline", "difficulty", "skill"):
            assert getattr(state, name) == getattr(present, name), name
    live = summarize(qs).as_dict()
    assert _close(record.summary.as_dict(), live)
    assert later.pk in [f.pk for f in record.forecasts]


def _close(a: dict, b: dict) -> bool:
    assert a and a.keys() == b.keys(), (sorted(a), sorted(b))
    return all(a[k] == b[k] or (a[k] is not None and b[k] is not None and abs(a[k] - b[k]) < 1e-9) for k in a)


def test_a_hit_is_dated_by_its_deciding_session_not_by_when_the_job_ran(seed_forecast):
    # Loaded (and so scored) only in 2026, like the demo, but decided on 21 Feb 2025.
    f = decided(seed_forecast, status=Status.HIT, resolved_on=SEED_HIT, difficulty=0.4, skill=0.6)
    event(f, A.SCORED, utc(2026, 1, 5), status=["pending", "hit"], resolved_on=[None, "2025-02-21"])
    qs = Forecast.objects.filter(pk=f.pk)
    assert one(qs, date(2025, 2, 20)).status == Status.PENDING
    state = one(qs, date(2025, 3, 1))
    assert state.status == Status.HIT and state.skill == 0.6


def test_a_rescore_after_price_revisions_is_undone_before_it(seed_hit):
    # Bars were revised on 1 Jun 2025: the hit became a miss (decided at the last window session).
    decided(seed_hit, status=Status.MISS, resolved_on=date(2025, 5, 30), resolution_price=22000.0, skill=-0.4)
    event(
        seed_hit,
        A.RESCORED,
        utc(2025, 6, 1, 10),
        status=["hit", "miss"],
        resolved_on=["2025-02-21", "2025-05-30"],
        resolution_price=[23477.92, 22000.0],
    )
    qs = Forecast.objects.filter(pk=seed_hit.pk)
    before = one(qs, date(2025, 5, 31))
    assert (before.status, before.resolved_on, before.resolution_price) == (Status.HIT, SEED_HIT, 23477.92)
    assert before.skill == pytest.approx(0.6)  # outcome - p with the present p
    after = one(qs, date(2025, 6, 1))
    assert (after.status, after.resolution_price, after.skill) == (Status.MISS, 22000.0, -0.4)


def test_an_editors_void_counts_from_when_it_was_made(seed_hit):
    decided(seed_hit, status=Status.VOID, void_reason="Editor: misquote", skill=None)
    event(seed_hit, A.VOIDED, utc(2025, 3, 10, 12), status=["hit", "void"])
    qs = Forecast.objects.filter(pk=seed_hit.pk)
    before = one(qs, date(2025, 3, 9))
    assert before.status == Status.HIT and before.void_reason == "" and before.skill == pytest.approx(0.6)
    after = one(qs, date(2025, 3, 10))
    assert after.status == Status.VOID and after.void_reason == "Editor: misquote"
    assert after.resolved_on is None and after.skill is None


def test_a_scorer_void_recorded_later_is_pending(seed_forecast):
    f = decided(seed_forecast, status=Status.VOID, void_reason="no bars", scored_at=utc(2026, 3, 1))
    event(f, A.SCORED, utc(2026, 3, 1, 12), status=["pending", "void"], void_reason=["", "no bars"])
    qs = Forecast.objects.filter(pk=f.pk)
    assert one(qs, date(2026, 2, 28)).status == Status.PENDING
    assert one(qs, date(2026, 2, 28)).void_reason == ""
    assert one(qs, date(2026, 3, 1)).status == Status.VOID


def test_a_judgement_counts_from_when_it_was_made(hsi):
    f = make_forecast(instrument=hsi, kind=Kind.MANUAL, target=None, quote="Hong Kong will re-rate")
    decided(f, status=Status.HIT, resolved_on=date(2025, 6, 30))
    event(f, A.JUDGED, utc(2025, 7, 15, 12), status=["pending", "hit"], resolved_on=[None, "2025-06-30"])
    qs = Forecast.objects.filter(pk=f.pk)
    assert one(qs, date(2025, 7, 14)).status == Status.PENDING
    assert one(qs, date(2025, 7, 15)).status == Status.HIT


def test_a_later_correction_is_undone_with_the_outcome_it_reset(seed_hit):
    # Corrected on 10 Mar 2025 (23,200 was a typo for 25,000): back to pending, then not yet decided.
    decided(
        seed_hit, target=25000.0, status=Status.PENDING, resolved_on=None, resolution_price=None, skill=None
    )
    event(seed_hit, A.CORRECTED, utc(2025, 3, 10), target=[23200.0, 25000.0])
    qs = Forecast.objects.filter(pk=seed_hit.pk)
    before = one(qs, date(2025, 3, 1))
    assert before.target == 23200.0
    assert (before.status, before.resolved_on) == (Status.HIT, SEED_HIT)
    assert before.difficulty is None and before.skill is None  # p belonged to the corrected claim
    after = one(qs, date(2025, 3, 10))
    assert after.target == 25000.0 and after.status == Status.PENDING


def test_summary_twin_matches_the_sql_summary(hsi):
    s = StrategistFactory()
    rows = [
        (Status.HIT, 0.3, 0.7, Kind.REACH),
        (Status.MISS, 0.6, -0.6, Kind.REACH),
        (Status.HIT, 0.5, 0.5, Kind.DIRECTION_UP),
        (Status.MISS, None, None, Kind.REACH),
        (Status.PENDING, 0.2, None, Kind.REACH),
        (Status.VOID, None, None, Kind.REACH),
    ]
    for i, (st, p, skill, kind) in enumerate(rows):
        f = make_forecast(strategist=s, instrument=hsi, kind=kind, target=20000 + i, quote=f"q{i}")
        decided(
            f,
            status=st,
            difficulty=p,
            skill=skill,
            baseline=100.0,
            resolution_price=110.0 if st in (Status.HIT, Status.MISS) else None,
            resolved_on=date(2025, 3, 1) if st in (Status.HIT, Status.MISS) else None,
            void_reason="x" if st == Status.VOID else "",
        )
    qs = Forecast.objects.filter(strategist=s)
    assert _close(pointintime.summarize_states(list(qs)).as_dict(), summarize(qs).as_dict())


def test_leaderboard_as_of_a_future_date_ranks_as_now(hsi):
    people = [StrategistFactory() for _ in range(3)]
    for n, person in enumerate(people):
        for i in range(4):
            f = make_forecast(strategist=person, instrument=hsi, target=20000 + i, quote=f"{n}-{i}")
            skill = 0.1 * (n + 1) + 0.01 * i
            decided(f, status=Status.HIT, resolved_on=date(2025, 3, 1), difficulty=1 - skill, skill=skill)
    live = leaderboard(Forecast.objects.all(), min_resolved=3)
    then = pointintime.leaderboard_as_of(Forecast.objects.all(), date(2100, 1, 1), min_resolved=3)
    assert [(r.rank, r.subject.pk) for r in then] == [(r.rank, r.subject.pk) for r in live]
    assert [r.rank for r in live] == [1, 2, 3]  # bounds 0.3.., 0.2.., 0.1..: no ties
    early = pointintime.leaderboard_as_of(Forecast.objects.all(), date(2025, 2, 28), min_resolved=3)
    # Before the deciding session all three are listed, each with four pending calls and no rank.
    assert sorted(r.subject.pk for r in early) == sorted(p.pk for p in people)
    assert [(r.rank, r.summary.pending, r.summary.resolved) for r in early] == [(None, 4, 0)] * 3


def test_point_in_time_queries_do_not_grow_with_rows(seed_hit, django_assert_max_num_queries):
    strategist_id = seed_hit.strategist_id

    def run():
        qs = Forecast.objects.filter(strategist_id=strategist_id).select_related(
            "strategist", "firm", "source", "instrument", "other_instrument"
        )
        return pointintime.track_record_as_of(qs, date(2025, 3, 1))

    with django_assert_max_num_queries(2):
        assert len(run().forecasts) == 1
    for i in range(20):
        f = make_forecast(strategist=seed_hit.strategist, instrument=seed_hit.instrument, target=21000 + i)
        event(f, A.VOIDED, utc(2025, 4, 1), status=["pending", "void"])
    with django_assert_max_num_queries(2):
        assert len(run().forecasts) == 21


# --- through the API ---------------------------------------------------------------------------------


def test_track_record_as_of_through_the_api(client, seed_hit):
    url = f"/api/strategists/{seed_hit.strategist.slug}/track-record/"
    assert client.get(url, {"as_of": "2025-02-13"}).json()["forecasts"] == []
    body = client.get(url, {"as_of": "2025-02-20"}).json()
    assert body["as_of"] == "2025-02-20"
    [f] = body["forecasts"]
    assert (f["status"], f["resolved_on"], f["resolution_price"], f["skill"]) == ("pending", None, None, None)
    assert body["summary"]["pending"] == 1 and body["summary"]["hits"] == 0
    [f] = client.get(url, {"as_of": "2025-02-21"}).json()["forecasts"]
    assert (f["status"], f["resolved_on"]) == ("hit", "2025-02-21")
    now = client.get(url).json()
    future = client.get(url, {"as_of": "2100-01-01"}).json()
    assert now["as_of"] is None and future["forecasts"] == now["forecasts"]
    assert _close(future["summary"], now["summary"])


def test_firm_track_record_and_leaderboard_as_of(client, seed_hit):
    firm = seed_hit.firm
    body = client.get(f"/api/firms/{firm.slug}/track-record/", {"as_of": "2025-02-20"}).json()
    assert body["firm"]["slug"] == firm.slug and body["summary"]["pending"] == 1
    board = client.get("/api/leaderboard/", {"as_of": "2025-02-20"}).json()
    [row] = board["results"]
    assert board["as_of"] == "2025-02-20" and row["summary"]["pending"] == 1 and row["rank"] is None
    assert client.get("/api/leaderboard/", {"as_of": "2025-02-13"}).json()["count"] == 0
    hits = client.get("/api/leaderboard/", {"as_of": "2025-02-20", "status": "hit"}).json()
    assert hits["count"] == 0  # the status filter is the status as of then


@pytest.mark.parametrize("bad", ["2025-13-01", "yesterday", "2025-02-30", "20250220"])
@pytest.mark.parametrize(
    "url", ["/api/strategists/alvin-ngan/track-record/", "/api/firms/x/track-record/", "/api/leaderboard/"]
)
def test_an_invalid_as_of_is_a_400_naming_the_field(client, db, url, bad):
    response = client.get(url, {"as_of": bad})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid"
    assert "as_of" in error["fields"] and "YYYY-MM-DD" in error["fields"]["as_of"][0]
