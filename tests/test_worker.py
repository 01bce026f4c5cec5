"""A real Redis and a real `celery worker` process: a price refresh queued by
one process turns a pending forecast into a scored one in the database."""

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from forecasts.models import Forecast, Status
from forecasts.scoring import MISSING_BARS_VOID
from tests.conftest import require_service

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict  # already points at the test database
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path: Path):
    redis_url = os.environ.get("HINDSIGHT_TEST_REDIS_URL", "")
    require_service("Redis", bool(redis_url))
    require_service("PostgreSQL", connection.vendor == "postgresql")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "worker-test-key",
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "HINDSIGHT_PRICE_PROVIDER": "offline",
        "HINDSIGHT_BACKFILL_DAYS": "10000",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"test-{os.getpid()}@localhost",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Celery("test-producer", broker=redis_url), log, proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_worker_refreshes_prices_and_scores(hsi, seed_forecast, worker):
    producer, log, _ = worker
    before = Forecast.objects.get(pk=seed_forecast.pk)
    # No bars yet: pending while the window may still get them, and once the deadline is far enough
    # behind (as it is from 2026 on: the 12-month default ends 2026-02-14), void for missing bars, a void
    # that bars arriving later undo (SCORING §3).
    undecided = (before.status == Status.PENDING) or (
        before.status == Status.VOID and before.void_reason.startswith(MISSING_BARS_VOID)
    )
    assert undecided, (before.status, before.status_note, before.void_reason)

    producer.send_task("marketdata.tasks.refresh_prices", args=[hsi.pk])

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        f = Forecast.objects.get(pk=seed_forecast.pk)
        if f.status in (Status.HIT, Status.MISS):
            break
        time.sleep(0.5)
    else:
        pytest.fail(
            "the worker did not score the forecast within 120 s; worker log:\n" + log.read_text()[-4000:]
        )
    assert (f.status, f.resolved_on, f.resolution_price) == (
        Status.HIT,
        date(2025, 2, 21),
        pytest.approx(23477.92),
    )
    text = log.read_text()
    assert "marketdata.tasks.refresh_prices" in text and "forecasts.tasks.score_forecasts" in text
