import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

HK = ZoneInfo("Asia/Hong_Kong")
REQUIRE_SERVICES = os.environ.get("HINDSIGHT_REQUIRE_SERVICES") == "1"


def require_service(name: str, available: bool) -> None:
    """Skip a service test locally when the service is missing; fail it in CI."""
    if available:
        return
    message = f"{name} is not available (run the suite through `make test`, which starts it)"
    if REQUIRE_SERVICES:
        pytest.fail(message + " — required in CI")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: tests roll back their data without the commit that would
    move the data version, so boards or pages cached by an earlier test could otherwise be served."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request to a /zh-hans/ page leaves its language active in
    the thread (LocaleMiddleware activates it and nothing deactivates it), so text built later in another
    test ("15 of 31 sessions complete") came out in Chinese, depending on the order the tests ran in."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(scope="module")
def _demo_data(django_db_setup, django_db_blocker):
    """The demo loaded once per test module; each test runs in a transaction rolled back after it."""
    from io import StringIO

    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("load_demo", "--no-admin", stdout=StringIO())
    yield
    with django_db_blocker.unblock():
        call_command("flush", "--no-input")


@pytest.fixture
def demo(_demo_data, db):
    """The demo data (real prices, the seed and the other demo forecasts, all scored)."""
    return None


@pytest.fixture
def hsi(db):
    from marketdata.services import get_or_create_instrument

    return get_or_create_instrument("HSI")[0]


@pytest.fixture
def hsi_with_prices(hsi):
    """HSI with its real bundled history loaded (2021-06-24 .. 2026-08-26)."""
    from django.conf import settings

    from marketdata.providers.offline import read_price_csv
    from marketdata.services import upsert_price_bars

    bars = read_price_csv(settings.HINDSIGHT_OFFLINE_DATA_DIR / "HSI.csv")
    upsert_price_bars(hsi, bars, source="offline")
    return hsi


@pytest.fixture
def seed_forecast(hsi):
    """Alvin Ngan's HSI 23,200 call from the China Daily HK article of 2025-02-14 (date only),
    recorded through the one way in, by the operator (published)."""
    from forecasts.services.recording import ForecastInput, SourceInput, record_forecast

    return record_forecast(
        SourceInput(
            url="https://www.chinadailyhk.com/hk/article/604533",
            publication="China Daily HK",
            title="Hong Kong stocks rallied on Friday",
            published=date(2025, 2, 14),
        ),
        ForecastInput(
            strategist="Alvin Ngan",
            firm="Zhongtai Financial International",
            instrument=hsi,
            kind="reach",
            target=23200,
            quote="the HSI could reclaim last year's peak of around 23,200 points",
        ),
    ).forecast


def hk(*args) -> datetime:
    return datetime(*args, tzinfo=HK)


# --- real processes for the fault tests (tests/test_faults*.py) ----------------------------------


def test_database_url() -> str:
    """The test database as a DATABASE_URL for a subprocess (a worker, a web server)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def _stop(proc, timeout: float = 20) -> None:
    import subprocess

    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server process of this test's own: stop, freeze and restart it at will."""
    from tests.servers import RedisServer, ServiceUnavailable, redis_server_binary

    require_service("redis-server", bool(redis_server_binary()))
    workdir = tmp_path / "own-redis"
    workdir.mkdir()
    try:
        server = RedisServer(workdir).start()
    except ServiceUnavailable as exc:
        require_service(f"redis-server ({exc})", False)
    yield server
    server.stop()


@pytest.fixture
def start_worker(tmp_path):
    """start_worker(redis_url, **env) -> (producer, log_path, proc): a real `celery worker` on the
    test database with the production settings (CONN_MAX_AGE 60 unless env says otherwise)."""
    import subprocess
    import sys

    from celery import Celery
    from django.conf import settings
    from django.db import connection

    require_service("PostgreSQL", connection.vendor == "postgresql")
    started = []

    def start(redis_url: str, *, concurrency: int = 1, **extra_env: str):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": "worker-test-key",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": redis_url,
            "HINDSIGHT_PRICE_PROVIDER": "offline",
            "HINDSIGHT_BACKFILL_DAYS": "10000",
            "DJANGO_LOG_FORMAT": "plain",
            **extra_env,
        }
        if "DATABASE_CONN_MAX_AGE" not in extra_env:
            env.pop("DATABASE_CONN_MAX_AGE", None)  # the production default, 60
        log = tmp_path / f"worker-{len(started)}.log"
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
                    f"--concurrency={concurrency}",
                    "--without-mingle",
                    "--without-gossip",
                    "--hostname",
                    f"fault-{os.getpid()}-{len(started)}@localhost",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)
        return Celery(f"fault-producer-{len(started)}", broker=redis_url), log, proc

    yield start
    for proc in started:
        _stop(proc)


@pytest.fixture
def start_web(tmp_path):
    """start_web(redis_url, **env) -> (port, log_path, proc): gunicorn serving the site (production
    settings, plain HTTP on loopback) on the test database."""
    import http.client
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.conf import settings

    from tests.servers import free_port

    started = []

    def start(redis_url: str, *, workers: int = 2, **extra_env: str):
        port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": "web-test-key-0123456789-0123456789-0123456789-0123456789",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": redis_url,
            "DJANGO_LOG_FORMAT": "plain",
            **extra_env,
        }
        log = tmp_path / f"web-{len(started)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("gunicorn")),
                    "config.wsgi:application",
                    "-b",
                    f"127.0.0.1:{port}",
                    "-w",
                    str(workers),
                    "--timeout",
                    "90",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail("gunicorn exited at start:\n" + log.read_text()[-4000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                conn.getresponse().read()
                conn.close()
                return port, log, proc
            except OSError:
                time.sleep(0.2)
        pytest.fail("gunicorn did not come up:\n" + log.read_text()[-4000:])

    yield start
    for proc in started:
        _stop(proc)
