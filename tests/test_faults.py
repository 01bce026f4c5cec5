"""Faults with real services: a worker killed mid-scoring, PostgreSQL restarted in the middle of one.

More real faults (Redis stopped, the provider, SQLite disks) are in tests/test_faults_real.py.

Each unit of work (one forecast's score and its history event) is one
transaction, and tasks are acknowledged late and rejected when their worker
dies, so a killed worker leaves nothing half-written and the work completes
on redelivery.
"""

import os
import re
import signal
import subprocess
import time
from datetime import date, timedelta

import pytest
from django.db import InterfaceError, OperationalError, connection

from forecasts.models import Forecast, ForecastEvent, Status
from marketdata.models import PriceBar
from tests.conftest import require_service
from tests.factories import SourceFactory, StrategistFactory
from tests.test_worker import worker  # noqa: F401 - the real worker fixture

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _many_forecasts(hsi, n: int) -> None:
    from forecasts import services

    source = SourceFactory()
    people = [StrategistFactory() for _ in range(20)]
    for i in range(n):
        services.forecast_create(
            strategist=people[i % 20],
            source=source,
            instrument=hsi,
            kind="reach",
            quote=f"call {i}",
            target=18000.0 + 10 * i,
            deadline=date(2025, 2, 14) + timedelta(days=30 + i % 300),
            deadline_source="stated",
            publish=False,
        )


def _wait(predicate, timeout: float, message: str, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail(message + "\nworker log:\n" + log.read_text()[-4000:])


def test_worker_killed_mid_scoring_leaves_nothing_half_written(hsi_with_prices, worker):  # noqa: F811
    producer, log, proc = worker
    n = 1500
    _many_forecasts(hsi_with_prices, n)
    scored = lambda: Forecast.all_objects.exclude(status=Status.PENDING).count()  # noqa: E731
    producer.send_task("forecasts.tasks.score_forecasts", args=[hsi_with_prices.pk])

    _wait(lambda: scored() > 0, 60, "scoring never started", log)
    victims = _children(proc.pid)
    assert victims, "no pool process to kill"
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    partial = scored()
    assert 0 < partial < n, f"the kill came too late to be mid-scoring ({partial}/{n} scored)"

    # Redelivered to a fresh pool process, the task finishes the job.
    _wait(lambda: scored() == n, 180, f"work did not complete after the kill ({scored()}/{n})", log)
    assert "WorkerLostError" in log.read_text() or "exited prematurely" in log.read_text()
    # Every decided forecast has exactly one "scored" event: no result without its history, none twice.
    events = ForecastEvent.objects.filter(action="scored").values_list("forecast_id", flat=True)
    assert sorted(events) == sorted(
        Forecast.all_objects.exclude(status=Status.PENDING).values_list("pk", flat=True)
    )


def test_postgres_restarted_mid_scoring_with_persistent_connections(hsi, own_redis, start_worker):
    """The production CONN_MAX_AGE (60 s, connections kept between tasks, CONN_HEALTH_CHECKS on).

    1. PostgreSQL restarts while the worker idles on a persistent connection: the next task (a price
       refresh) must find the dead connection, reconnect and succeed at its first attempt.
    2. PostgreSQL restarts in the middle of the scoring task that refresh queued. To be sure the restart
       lands mid-task, the test holds a row lock (SELECT ... FOR UPDATE, from its own connection) on the
       forecast a third of the way through the scorer's order: the scorer commits the ones before it, then
       waits on that row inside its transaction (seen in pg_stat_activity), and PostgreSQL is restarted
       under it. The task must fail (or retry) cleanly: every forecast it decided has its one "scored"
       event, the blocked one and those after it are untouched.
    3. Nobody restarts the worker: the hourly sweep (as beat sends it) scores the rest, each forecast
       exactly once and as a clean run on the stored bars scores it.
    """
    import psycopg

    from marketdata.services import get_or_create_instrument
    from tests.conftest import test_database_url
    from tests.servers import restart_postgres
    from tests.test_faults_real import assert_scored_once_and_right

    require_service(
        "a restartable PostgreSQL (tests.servers)",
        bool(os.environ.get("HINDSIGHT_TEST_PG_CTL")) and connection.vendor == "postgresql",
    )
    n = 1200
    _many_forecasts(hsi, n)
    pks = list(Forecast.all_objects.filter(instrument=hsi).order_by("pk").values_list("pk", flat=True))
    blocked_pk = pks[n // 3]
    producer, log, proc = start_worker(own_redis.url)  # no DATABASE_CONN_MAX_AGE: the default, 60

    # 1. A warm persistent connection, then a restart while the worker is idle. The warming task scores
    # an instrument with no forecasts: scoring HSI before its bars exist would void every call (their
    # deadlines are long past, SCORING's "bars still missing 10 sessions after the deadline").
    idle = get_or_create_instrument("BTC-USD")[0]
    producer.send_task("forecasts.tasks.score_forecasts", args=[idle.pk])
    _wait(lambda: "succeeded" in log.read_text(), 90, "the first task failed", log)
    assert scored_count() == 0, log.read_text()[-3000:]
    connection.close()
    restart_postgres("fast")
    blocker = psycopg.connect(test_database_url())  # a transaction stays open: the row lock is held
    try:
        blocker.execute("SELECT id FROM forecasts_forecast WHERE id = %s FOR UPDATE", [blocked_pk])
        producer.send_task("marketdata.tasks.refresh_prices", args=[hsi.pk])
        _wait(lambda: _safely(lambda: PriceBar.objects.filter(instrument=hsi).exists()), 90, "no bars", log)
        assert "OperationalError" not in log.read_text(), "a dead persistent connection was used"

        # 2. The refresh queued the scoring; it stops on the locked row, inside its transaction.
        _wait(lambda: _safely(_scorer_waiting_on_a_row_lock), 120, "the scorer never reached the row", log)
        partial = scored_count()
        assert 0 < partial < n, f"the scorer is not mid-task ({partial}/{n} scored)"
        connection.close()
        restart_postgres("fast")  # ends every backend: the scorer's (mid-transaction) and the blocker's
    finally:
        blocker.close()
    _wait(
        lambda: re.search(r"score_forecasts\[[^]]+\] (raised unexpected|retry)", log.read_text()),
        60,
        "the scoring task did not end (failed or retried) after the restart",
        log,
    )
    text = log.read_text()
    assert "OperationalError" in text or "InterfaceError" in text, text[-3000:]
    _wait(lambda: _safely(scored_count) is not None, 30, "no connection after the restart", log)
    after = scored_count()
    if "raised unexpected" in text:  # failed cleanly: nothing written after the restart
        assert after == partial, f"{after - partial} forecasts were written by a task that failed"
    assert Forecast.all_objects.get(pk=blocked_pk).status == Status.PENDING
    _assert_one_scored_event_per_decided()

    # 3. The hourly sweep (as beat sends it) finishes the work on the same, never restarted, worker.
    producer.send_task("forecasts.tasks.score_all_pending")
    _wait(lambda: _safely(scored_count) == n, 120, f"the sweep did not complete ({scored_count()}/{n})", log)
    _wait(lambda: _last_scoring_done(log), 60, "the sweep's scoring did not end", log)
    assert_scored_once_and_right(hsi)
    assert proc.poll() is None
    print(f"PostgreSQL restarted at {partial}/{n} scored, {after} when the task ended; the sweep did all")


def _scorer_waiting_on_a_row_lock() -> bool:
    """Is another backend waiting for a row lock in the middle of an UPDATE of a forecast?"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL "
            "AND query ILIKE 'UPDATE %%forecasts_forecast%%'"
        )
        return cursor.fetchone()[0] > 0


def _last_scoring_done(log) -> bool:
    lines = [line for line in log.read_text().splitlines() if "score_forecasts[" in line]
    return bool(lines) and "succeeded" in lines[-1]


def scored_count() -> int:
    return Forecast.all_objects.exclude(status=Status.PENDING).count()


def _safely(query):
    """Run a query from the test process; a connection killed by the restart counts as 'not yet'."""
    try:
        return query()
    except (OperationalError, InterfaceError):
        connection.close()
        return None


def _assert_one_scored_event_per_decided() -> None:
    events = ForecastEvent.objects.filter(action="scored").values_list("forecast_id", flat=True)
    assert sorted(events) == sorted(
        Forecast.all_objects.exclude(status=Status.PENDING).values_list("pk", flat=True)
    )
