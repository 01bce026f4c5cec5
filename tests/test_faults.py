"""Faults with real services: a worker killed mid-scoring, PostgreSQL restarted in the middle of one.

More real faults (Redis stopped, the provider, SQLite disks) are in tests/test_faults_real.py.

Each unit of work (one forecast's score and its history event) is one
transaction, and tasks are acknowledged late and rejected when their worker
dies, so a killed worker leaves nothing half-written and the work completes
on redelivery.
"""

import os
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


@pytest.mark.xfail(
    strict=False,
    reason="unfinished (issue 16): phase 1 passes; in phase 2 the scoring of 3,000 forecasts is done before "
    "the test can freeze the pool process, so the restart does not yet land mid-task",
)
def test_postgres_restarted_mid_scoring_with_persistent_connections(hsi, own_redis, start_worker):
    """The production CONN_MAX_AGE (60 s, connections kept between tasks, CONN_HEALTH_CHECKS on).

    1. PostgreSQL restarts while the worker idles on a persistent connection: the next task must find
       the dead connection, reconnect and succeed at its first attempt.
    2. PostgreSQL restarts in the middle of a scoring task (3,000 forecasts): the task
       fails cleanly (every forecast it scored has its one event, the rest are untouched), and the sweep
       completes it.
    """
    from tests.servers import restart_postgres

    require_service(
        "a restartable PostgreSQL (tests.servers)",
        bool(os.environ.get("HINDSIGHT_TEST_PG_CTL")) and connection.vendor == "postgresql",
    )
    n = 3000
    _many_forecasts(hsi, n)
    producer, log, _proc = start_worker(own_redis.url)  # no DATABASE_CONN_MAX_AGE: the default, 60

    # 1. A warm persistent connection, then a restart while the worker is idle.
    producer.send_task("forecasts.tasks.score_forecasts", args=[hsi.pk])  # no bars yet: all stay pending
    _wait(lambda: "succeeded" in log.read_text(), 90, "the first task failed", log)
    connection.close()
    restart_postgres("fast")
    producer.send_task("marketdata.tasks.refresh_prices", args=[hsi.pk])
    _wait(lambda: _safely(lambda: PriceBar.objects.filter(instrument=hsi).exists()), 90, "no bars", log)
    assert "OperationalError" not in log.read_text(), "a dead persistent connection was used"

    # 2. The refresh queued the scoring of all 1,500; restart PostgreSQL in the middle of it.
    # The pool process is frozen (SIGSTOP) the moment scoring has begun, so the restart is sure to land
    # inside the task, and thawed once PostgreSQL is back: its connection is then a dead one.
    _wait(lambda: _safely(_scoring_writes_in_flight), 120, "scoring never started", log)
    pool = _children(_proc.pid)
    for pid in pool:
        os.kill(pid, signal.SIGSTOP)
    try:
        connection.close()
        restart_postgres("fast")
        connection.close()
        partial = _wait(lambda: _safely(scored_count), 60, "no connection after the restart", log)
    finally:
        for pid in pool:
            os.kill(pid, signal.SIGCONT)
    assert partial < n, "the restart came too late to be mid-scoring"
    _wait(
        lambda: "OperationalError" in log.read_text() or "InterfaceError" in log.read_text(),
        60,
        "the task did not notice the restart",
        log,
    )
    _assert_one_scored_event_per_decided()

    # 3. Nobody restarts the worker. The hourly sweep (as beat sends it) finishes the work.
    producer.send_task("forecasts.tasks.score_all_pending")
    _wait(lambda: _safely(scored_count) == n, 180, f"the sweep did not complete ({scored_count()}/{n})", log)
    _assert_one_scored_event_per_decided()
    assert _proc.poll() is None


def _scoring_writes_in_flight() -> bool:
    """Is another backend inside a transaction that has written scores not yet committed?"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND backend_xid IS NOT NULL AND state <> 'idle' "
            "AND (query ILIKE '%%forecasts_forecast%%' OR query ILIKE '%%forecastevent%%')"
        )
        return cursor.fetchone()[0] > 0 or scored_count() > 0


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
