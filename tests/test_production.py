"""Production readiness: deploy checks, security headers, login throttling, health, logs, failure reports."""

import io
import json
import logging
import os
import secrets
import subprocess
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml
from django.core import mail
from django.core.cache import caches

from config.logging import JSONFormatter, TaskContextFilter
from forecasts.models import Forecast, Status
from forecasts.services import forecasts_score
from tests.paths import ROOT
from tests.servers import free_port

ROOT = ROOT


def test_check_deploy_reports_nothing_with_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # set by browser tests
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "hindsight.example.com",
        "DATABASE_URL": "sqlite:////tmp/hindsight-deploy-check.sqlite3",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "DJANGO_SECRET_KEY must be set" in done.stderr


@pytest.mark.django_db
def test_security_headers(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/healthz", secure=True)
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_login_throttling_locks_out_password_guessing(client, django_user_model, settings):
    caches["default"].clear()
    django_user_model.objects.create_superuser("boss", "boss@example.invalid", "right-password")
    url = f"/{settings.HINDSIGHT_ADMIN_PATH}login/"
    for _ in range(settings.HINDSIGHT_LOGIN_ATTEMPTS):
        response = client.post(url, {"username": "boss", "password": "guess"})
        assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    # Locked: even the right password is refused now.
    response = client.post(url, {"username": "boss", "password": "right-password"})
    assert not response.wsgi_request.user.is_authenticated
    caches["default"].clear()
    response = client.post(url, {"username": "boss", "password": "right-password"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_healthz_is_cheap_and_reports_markets(client, hsi, django_assert_max_num_queries):
    from marketdata.models import FetchLog

    FetchLog.objects.create(
        instrument=hsi, provider="offline", started_at=datetime.now(tz=ZoneInfo("UTC")), outcome="ok"
    )
    import config.health

    config.health._freshness_cache["value"] = None
    with django_assert_max_num_queries(3):
        body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["prices"]["XHKG"]["stale"] is False and body["prices"]["XHKG"]["age_seconds"] < 60
    with django_assert_max_num_queries(1):  # freshness is cached between polls
        client.get("/healthz")


@pytest.mark.django_db
def test_healthz_fails_when_redis_is_down(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["redis"].startswith("error")


@pytest.mark.django_db
def test_pages_and_api_serve_while_the_redis_cache_is_down(client, seed_forecast, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    from config.cache import ResilientRedisCache

    dead = ResilientRedisCache(
        f"redis://127.0.0.1:{free_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
    )
    assert dead.get("x", "miss") == "miss" and dead.set("x", 1) is None and dead.incr("n") == 1
    monkeypatch.setattr(caches._connections, "default", dead)
    monkeypatch.setattr(SimpleRateThrottle, "cache", dead)  # what DRF's throttles captured at import
    for url in [
        "/",
        f"/forecasts/{seed_forecast.pk}/",
        "/api/forecasts/",
        "/api/strategists/alvin-ngan/track-record/",
        "/healthz",
    ]:
        assert client.get(url).status_code == 200, url


def test_scoring_enqueue_survives_a_dead_broker(caplog):
    from forecasts.services.queueing import scoring_enqueue as enqueue_scoring
    from forecasts.tasks import score_forecasts

    app = score_forecasts.app

    def reset_pools():
        app._pool = None
        app.amqp._producer_pool = None

    old = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.task_always_eager = False
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    reset_pools()
    try:
        with caplog.at_level(logging.WARNING):
            assert enqueue_scoring(1) is False
        assert "could not queue scoring" in caplog.text
    finally:
        app.conf.broker_url, app.conf.task_always_eager = old
        reset_pools()


@pytest.mark.django_db
def test_structured_logs_carry_the_task_id(hsi):
    from celery import shared_task

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(TaskContextFilter())
    logger = logging.getLogger("hindsight.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    @shared_task(name="tests.log_something")
    def log_something():
        logger.info("inside the task")

    try:
        result = log_something.apply(task_id="task-123")
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    assert result.successful()
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "inside the task" and inside["task_id"] == "task-123"
    assert inside["task_name"] == "tests.log_something"
    assert "task_id" not in outside


@pytest.mark.django_db
def test_failed_tasks_are_reported_to_the_admins(settings):
    from forecasts.tasks import score_forecasts

    settings.ADMINS = [("Ops", "ops@example.invalid")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = score_forecasts.apply(args=[987654], throw=False)  # no such instrument
    assert result.failed()
    assert len(mail.outbox) == 1
    assert "Task failed: forecasts.tasks.score_forecasts" in mail.outbox[0].subject
    assert "DoesNotExist" in mail.outbox[0].body


@pytest.mark.django_db
def test_clock_passing_the_deadline_while_data_is_late_is_not_a_miss(hsi_with_prices):
    """A close_above whose last window session has no bar yet stays pending after the deadline."""
    from tests.factories import make_forecast

    f = make_forecast(
        instrument=hsi_with_prices,
        kind="close_above",
        target=99999.0,
        deadline=date(2026, 8, 28),
        deadline_source="stated",
    )  # data ends 2026-08-26
    with time_machine.travel(datetime(2026, 8, 31, 12, tzinfo=ZoneInfo("UTC")), tick=False):
        forecasts_score(hsi_with_prices)
    f.refresh_from_db()
    assert f.status == Status.PENDING and f.awaiting_data
    assert Forecast.objects.filter(status=Status.MISS, pk=f.pk).count() == 0


def test_compose_file_is_complete():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert {"pgdata", "redisdata"} <= set(compose["volumes"])
    assert "gunicorn" in (ROOT / "docker" / "Dockerfile").read_text()
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    settings_text = (ROOT / "config" / "settings.py").read_text()
    import re

    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_text))
    assert read <= documented, f"settings read but not in .env.example: {sorted(read - documented)}"
