"""Faults with real services: a worker killed mid-scoring, PostgreSQL restarted under a worker.

Each unit of work (one forecast's score and its history event) is one
transaction, and tasks are acknowledged late and rejected when their worker
dies, so a killed worker leaves nothing half-written and the work completes
on redelivery.
"""

import json
import os
import signal
import subprocess
import time
from datetime import date, timedelta

import pytest
from django.db import connection

from forecasts.models import Forecast, ForecastEvent, Status
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


def _wait(predicate, timeout: float, message: str, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
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


def test_worker_reconnects_after_postgres_restart(hsi_with_prices, seed_forecast, worker):  # noqa: F811
    producer, log, _ = worker
    pg_ctl = os.environ.get("HINDSIGHT_TEST_PG_CTL")
    require_service(
        "a restartable PostgreSQL (tests.servers)", bool(pg_ctl) and connection.vendor == "postgresql"
    )
    # Warm the worker's database connection first.
    producer.send_task("forecasts.tasks.score_forecasts", args=[hsi_with_prices.pk])
    _wait(
        lambda: Forecast.all_objects.get(pk=seed_forecast.pk).status == Status.HIT,
        60,
        "first task failed",
        log,
    )
    Forecast.all_objects.filter(pk=seed_forecast.pk).update(status=Status.PENDING, resolved_on=None)

    connection.close()
    subprocess.run([*json.loads(pg_ctl), "-m", "fast", "-w", "restart"], check=True, capture_output=True)

    producer.send_task("forecasts.tasks.score_forecasts", args=[hsi_with_prices.pk])
    _wait(
        lambda: Forecast.all_objects.get(pk=seed_forecast.pk).status == Status.HIT,
        90,
        "the worker did not recover from the PostgreSQL restart",
        log,
    )
