"""The nightly incremental rescore (issue 13, part 4): it rescores only what new sessions can change,
writes nothing when nothing changed, and ends where a from-scratch full rescore ends; pending notes are
stable and the progress is computed when shown."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecasts.api.serializers import ForecastSerializer
from forecasts.models import DeadlineSource, Forecast, ScoringCheckpoint, Status
from forecasts.scoring import SCORE_COLUMNS
from forecasts.selectors.progress import calendar_progress, last_complete_bars, window_progress
from forecasts.services import forecasts_rescore_incremental, forecasts_score
from forecasts.services.history import equal
from forecasts.templatetags.hindsight import window_progress as window_progress_filter
from marketdata.calendars import get_calendar
from marketdata.models import PriceBar
from tests.factories import make_forecast

pytestmark = pytest.mark.django_db

HK = ZoneInfo("Asia/Hong_Kong")
CAL = get_calendar("XHKG")


def after_close(day: date) -> datetime:
    """An instant an hour after the session's close."""
    return CAL.session_close(day) + timedelta(hours=1)


def sessions(start: date, end: date) -> list[date]:
    return CAL.sessions_between(start, end)


def close_on(instrument, day: date) -> float:
    return PriceBar.objects.get(instrument=instrument, session=day).close


def snapshot() -> dict[int, dict]:
    return {
        row["pk"]: row
        for row in Forecast.all_objects.exclude(kind="manual").values("pk", *SCORE_COLUMNS).order_by("pk")
    }


def forecast_updates(queries) -> int:
    return sum(
        q["sql"].lstrip().upper().startswith("UPDATE") and "forecasts_forecast" in q["sql"]
        for q in queries.captured_queries
    )


@pytest.fixture
def hsi_fresh(hsi_with_prices):
    """HSI with its prices, and no checkpoint (the price load's own scoring ran at the real clock)."""
    ScoringCheckpoint.objects.all().delete()
    return hsi_with_prices


def random_forecasts(instrument, rng: random.Random, n: int, made_from: date, made_to: date) -> None:
    days = sessions(made_from, made_to)
    kinds = ["reach", "reach", "move_pct", "close_above", "close_below", "range", "direction_up"]
    kinds += ["direction_down"]
    for _ in range(n):
        made = rng.choice(days)
        ref = close_on(instrument, made)
        kind = rng.choice(kinds)
        made_at = rng.choice(
            [
                datetime.combine(made + timedelta(days=1), time(0), HK),  # date-only
                datetime.combine(made, time(17, 30), HK),  # after the close
                datetime.combine(made, time(11, 0), HK),  # during the session
            ]
        )
        deadline = made + timedelta(days=rng.choice([3, 10, 20, 35, 60, 400]))
        target, upper = ref * rng.uniform(0.9, 1.1), None
        if kind == "move_pct":
            target = rng.choice([-1, 1]) * rng.uniform(0.5, 6)
        elif kind == "range":
            target, upper = ref * rng.uniform(0.9, 1.0), ref * rng.uniform(1.0, 1.1)
        elif kind.startswith("direction"):
            target = None
        make_forecast(
            instrument=instrument,
            kind=kind,
            target=None if target is None else round(target, rng.choice([0, 2])),
            target_upper=None if upper is None else round(upper),
            basis=rng.choice(["close", "close", "intraday"]),
            made_at=made_at,
            deadline=deadline,
            deadline_source=DeadlineSource.STATED,
        )


def reset_scores() -> None:
    Forecast.all_objects.update(
        status=Status.PENDING,
        status_note="",
        awaiting_data=False,
        resolved_on=None,
        resolution_price=None,
        baseline=None,
        baseline_date=None,
        window_start=None,
        window_end=None,
        window_sessions=None,
        difficulty=None,
        skill=None,
        window_return=None,
        benchmark_return=None,
        scorer_version="",
        scored_at=None,
        void_reason="",
        voided_on=None,
    )
    ScoringCheckpoint.objects.all().delete()


def assert_same(got: dict[int, dict], want: dict[int, dict], columns=SCORE_COLUMNS) -> None:
    assert got.keys() == want.keys()
    for pk, row in want.items():
        for column in columns:
            a, b = got[pk][column], row[column]
            assert (a is None and b is None) or equal(a, b), (pk, column, a, b)


def test_incremental_nightly_runs_end_where_a_full_rescore_ends(hsi_fresh):
    """Random claims, 25 nightly runs (one bar missing until it arrives late): the incremental runs store
    what full rescores store, column for column, and what a from-scratch full rescore gives."""
    rng = random.Random(13)
    random_forecasts(hsi_fresh, rng, 150, date(2025, 9, 1), date(2025, 11, 14))
    start = after_close(date(2025, 11, 14))
    nights = sessions(date(2025, 11, 17), date(2025, 12, 22))[:25]
    gap = nights[6]  # its bar is missing until night 12, then arrives (fetched after the runs that missed it)
    bar = PriceBar.objects.get(instrument=hsi_fresh, session=gap)

    def run(score) -> list[str]:
        reset_scores()
        PriceBar.objects.filter(instrument=hsi_fresh, session=gap).delete()
        modes = [score(start).mode]
        for k, night in enumerate(nights):
            if k == 12:
                bar.pk = None
                bar.fetched_at = datetime.now(HK)
                bar.save()
            modes.append(score(after_close(night)).mode)
        return modes

    run(lambda as_of: forecasts_score(hsi_fresh, as_of=as_of, persist=True))
    full_nightly = snapshot()
    modes = run(lambda as_of: forecasts_rescore_incremental(hsi_fresh, as_of=as_of))
    incremental = snapshot()
    assert modes[0] == "full" and modes[13] == "full"  # no checkpoint yet; the late bar
    assert modes.count("incremental") == len(nights) - 1
    assert {r["status"] for r in incremental.values()} >= {"hit", "miss", "pending"}
    assert_same(incremental, full_nightly)

    # From scratch at the last night: the same, except that a touch hit decided before its window ended
    # has no window return when scored night by night (decided results are final, SCORING §3).
    reset_scores()
    forecasts_score(hsi_fresh, as_of=after_close(nights[-1]), persist=True)
    scratch = snapshot()
    assert_same(incremental, scratch, [c for c in SCORE_COLUMNS if c != "window_return"])
    early = {pk for pk, r in incremental.items() if r["window_return"] != scratch[pk]["window_return"]}
    kinds = dict(Forecast.all_objects.filter(pk__in=early).values_list("pk", "kind"))
    assert set(kinds.values()) <= {"reach", "move_pct"}
    assert all(incremental[pk]["status"] == "hit" for pk in early)


def test_a_second_run_without_new_bars_writes_nothing(hsi_fresh, django_assert_max_num_queries):
    rng = random.Random(7)
    random_forecasts(hsi_fresh, rng, 40, date(2025, 9, 1), date(2025, 11, 14))
    night = date(2025, 11, 17)
    forecasts_rescore_incremental(hsi_fresh, as_of=after_close(night))
    forecasts_rescore_incremental(hsi_fresh, as_of=after_close(night + timedelta(days=1)))
    later = after_close(night + timedelta(days=1)) + timedelta(hours=5)  # same session complete, no bar
    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(12):
        summary = forecasts_rescore_incremental(hsi_fresh, as_of=later)
    assert summary.mode == "incremental"
    assert summary.changed == 0
    assert forecast_updates(queries) == 0


def test_a_new_bar_rescores_only_the_forecasts_it_can_decide(hsi_fresh):
    days = sessions(date(2025, 11, 3), date(2025, 12, 31))
    # two consecutive sessions where the second's high is above the first's close
    day0, day1 = next(
        (a, b)
        for a, b in pairwise(days)
        if PriceBar.objects.get(instrument=hsi_fresh, session=b).high > close_on(hsi_fresh, a) + 5
    )
    c0, h1 = close_on(hsi_fresh, day0), PriceBar.objects.get(instrument=hsi_fresh, session=day1).high
    made = datetime.combine(day0, time(17, 30), HK)  # after the close: the window starts at day1
    common = {"made_at": made, "deadline": date(2026, 3, 31), "deadline_source": DeadlineSource.STATED}
    far = [make_forecast(instrument=hsi_fresh, target=round(c0 * f), **common) for f in (1.5, 1.6, 0.5)]
    touched = make_forecast(instrument=hsi_fresh, target=round(h1 - 1), basis="intraday", **common)
    assert touched.target > c0  # an "up" claim that the new bar's high touches
    ending = make_forecast(
        instrument=hsi_fresh,
        kind="close_above",
        target=round(c0),
        made_at=made,
        deadline=day1,
        deadline_source=DeadlineSource.STATED,
    )
    later = make_forecast(instrument=hsi_fresh, kind="close_below", target=round(c0), **common)

    forecasts_rescore_incremental(hsi_fresh, as_of=made + timedelta(minutes=1))
    assert set(Forecast.all_objects.values_list("status", flat=True)) == {Status.PENDING}
    with CaptureQueriesContext(connection) as queries:
        summary = forecasts_rescore_incremental(hsi_fresh, as_of=after_close(day1))
    assert summary.mode == "incremental"
    assert summary.pending == 6
    assert sorted(pk for pk, _ in summary.results) == sorted([touched.pk, ending.pk])
    assert summary.changed == 2 == forecast_updates(queries)
    assert Forecast.all_objects.get(pk=touched.pk).status == Status.HIT
    assert Forecast.all_objects.get(pk=ending.pk).status in (Status.HIT, Status.MISS)
    untouched = Forecast.all_objects.filter(pk__in=[f.pk for f in (*far, later)])
    assert set(untouched.values_list("status", flat=True)) == {Status.PENDING}


def test_pending_notes_count_no_sessions_and_progress_is_computed_when_shown(hsi_fresh):
    day0 = date(2025, 11, 14)
    made = datetime.combine(day0 + timedelta(days=1), time(0), HK)
    reach = make_forecast(
        instrument=hsi_fresh,
        target=round(close_on(hsi_fresh, day0) * 2),
        made_at=made,
        deadline=date(2025, 12, 31),
        deadline_source=DeadlineSource.STATED,
    )
    close = make_forecast(
        instrument=hsi_fresh,
        kind="close_above",
        target=1.0,
        made_at=made,
        deadline=date(2025, 12, 31),
        deadline_source=DeadlineSource.STATED,
    )
    forecasts_score(hsi_fresh, as_of=after_close(date(2025, 11, 20)), persist=True)
    notes = dict(Forecast.all_objects.values_list("pk", "status_note"))
    forecasts_score(hsi_fresh, as_of=after_close(date(2025, 12, 5)), persist=True)
    assert dict(Forecast.all_objects.values_list("pk", "status_note")) == notes  # stable across days
    assert notes[close.pk] == "pending: decided at the close of 2025-12-31"
    assert notes[reach.pk].startswith("pending: not at or above") and "2025-12-31" in notes[reach.pk]
    assert not any("sessions" in n for n in notes.values())

    f = Forecast.all_objects.select_related("instrument").get(pk=close.pk)
    window = sessions(date(2025, 11, 17), date(2025, 12, 31))
    assert f.window_start == window[0] and f.window_sessions == len(window)
    done = window.index(date(2025, 12, 5)) + 1
    shown = window_progress(f, last_bar=date(2025, 12, 5))
    assert (shown.complete, shown.sessions) == (done, len(window))
    assert str(shown) == f"{done} of {len(window)} sessions complete"
    assert window_progress(f, last_bar=date(2025, 11, 14)).complete == 0
    assert window_progress(f, last_bar=date(2026, 5, 1)).complete == len(window)  # capped at the window
    # From the stored bars (the real clock is past the bundled history): every window session has a bar.
    assert last_complete_bars([f.instrument]) == {
        f.instrument_id: PriceBar.objects.filter(instrument=f.instrument).latest("session").session
    }
    assert window_progress(f).complete == len(window)
    assert window_progress_filter(f) == f"{len(window)} of {len(window)} sessions complete"
    # The API shows it next to status_note, counted on the calendar (no query in lists)
    assert calendar_progress(f, now=after_close(date(2025, 12, 5))).complete == done
    data = ForecastSerializer(f, context={}).data
    assert data["progress"] == {"sessions_complete": len(window), "window_sessions": len(window)}
    f.status = Status.HIT
    assert window_progress(f) is None and window_progress_filter(f) == ""


def test_the_sweep_fans_out_in_batches_and_a_rerun_is_a_no_op(hsi_fresh, monkeypatch):
    from forecasts import tasks

    rng = random.Random(3)
    random_forecasts(hsi_fresh, rng, 20, date(2025, 9, 1), date(2025, 11, 14))
    sent: list[list[int]] = []
    monkeypatch.setattr(tasks, "SWEEP_BATCH_FROM", 1)
    monkeypatch.setattr(tasks.queueing, "scoring_enqueue_batch", lambda ids: sent.append(list(ids)) or True)
    assert tasks.score_all_pending() == 1
    assert sent == [[hsi_fresh.pk]]
    first = tasks.score_instrument_batch.apply(args=[sent[0]]).get()
    assert first["instruments"] == 1 and first["full"] == 1 and first["changed"] > 0
    assert ScoringCheckpoint.objects.filter(instrument=hsi_fresh).exists()
    again = tasks.score_instrument_batch.apply(args=[sent[0]]).get()  # a redelivery: nothing left to do
    assert again["full"] == 0 and again["changed"] == 0


def test_a_recorded_forecast_is_scored_by_the_incremental_rescore(
    hsi_fresh, monkeypatch, django_capture_on_commit_callbacks
):
    """Recording queues the incremental rescore: the new forecast (never scored) is decided at once, and
    the instrument's other pending forecasts are not all scored again for it (a full scoring per recorded
    forecast was most of the worker's time under load)."""
    import forecasts.tasks
    from forecasts.services.recording import ForecastInput, SourceInput, record_source

    for target in (40000.0, 41000.0, 42000.0):  # pending: far above any close, deadlines ahead
        make_forecast(instrument=hsi_fresh, target=target, made_at=datetime(2026, 6, 1, 17, 30, tzinfo=HK))
    forecasts_rescore_incremental(hsi_fresh)  # scores them and sets the checkpoint
    before = snapshot()
    full_runs = []
    real = forecasts.tasks.forecasts_score
    monkeypatch.setattr(
        forecasts.tasks, "forecasts_score", lambda *a, **k: full_runs.append(a) or real(*a, **k)
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = record_source(
            SourceInput(
                url="https://example.com/hsi-call", publication="Example", published=date(2025, 2, 14)
            ),
            [
                ForecastInput(
                    strategist="Alvin Ngan",
                    firm="Zhongtai Financial",
                    quote="expects the Hang Seng Index to reclaim last year's peak of about 23,200",
                    instrument=hsi_fresh,
                    kind="reach",
                    target=23200,
                    deadline=date(2025, 12, 31),
                )
            ],
        )
    new = Forecast.all_objects.get(pk=result.created[0].pk)
    assert new.status == Status.HIT  # the HSI passed 23,200 in February 2025
    assert full_runs == []
    assert {pk: row for pk, row in snapshot().items() if pk != new.pk} == before


@pytest.mark.services
def test_a_burst_of_recordings_on_one_instrument_queues_one_incremental_rescore(
    hsi_fresh, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """With the shared Redis and a real worker's settings (tasks not eager), recordings on an instrument
    whose incremental rescore is queued and not started queue nothing more; once the task starts (it
    clears the mark before it reads) the next recording queues again, and the task run then scores
    every forecast recorded in the burst. A revision of bars is never folded into it. With Redis down,
    every write queues its own."""
    import os
    import uuid

    import forecasts.tasks
    from forecasts.services import queueing
    from forecasts.services.recording import ForecastInput, SourceInput, record_source
    from tests.conftest import require_service

    url = os.environ.get("HINDSIGHT_TEST_REDIS_URL", "")
    require_service("Redis", bool(url))
    redis_cache = {
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": uuid.uuid4().hex,
    }
    settings.CACHES = {"default": redis_cache}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    forecasts_rescore_incremental(hsi_fresh)  # a checkpoint, as in production
    sent: list[tuple] = []
    monkeypatch.setattr(
        forecasts.tasks.score_forecasts,
        "apply_async",
        lambda args, kwargs, countdown=None: sent.append((args, kwargs, countdown)),
    )

    def record(n: int) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            record_source(
                SourceInput(
                    url=f"https://example.com/burst-{n}", publication="Example", published=date(2025, 2, 14)
                ),
                [
                    ForecastInput(
                        strategist=f"Burst Strategist {n}",
                        quote=f"the Hang Seng could reach {23000 + n}",
                        instrument=hsi_fresh,
                        kind="reach",
                        target=23000 + n,
                        deadline=date(2025, 12, 31),
                    )
                ],
            )

    for n in range(3):
        record(n)
    assert sent == [((hsi_fresh.pk,), {"revised_from": None, "incremental": True}, 1.0)]
    queueing.scoring_enqueue(hsi_fresh.pk, revised_from=date(2025, 1, 2))  # revised bars: always sent
    assert len(sent) == 2 and sent[1][2] is None  # and at once
    forecasts.tasks.score_forecasts.run(hsi_fresh.pk, incremental=True)  # the worker runs the first one
    burst = Forecast.all_objects.filter(source__url__startswith="https://example.com/burst-")
    assert sorted(burst.values_list("status", flat=True)) == [Status.HIT] * 3
    record(3)
    assert len(sent) == 3  # the task had started: a new write queues a new run
    settings.CACHES = {"default": {**redis_cache, "LOCATION": "redis://127.0.0.1:9/0"}}  # Redis down
    record(4)
    record(5)
    assert len(sent) == 5
