"""Real faults with real processes (issue 16): Redis stopped under a web server and a worker, a slow,
garbled or revising provider, a worker killed in the middle of a price upsert, and the embedded SQLite
database on a read-only or full disk.

Every test ends on the same check: no forecast lost, none scored twice, none scored wrongly (exactly
one "scored" event per decided forecast, and every status equal to what a clean run on the final
bars gives), and the service back to normal without anyone repairing it.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from forecasts.models import Forecast, ForecastEvent, Status
from forecasts.services import forecasts_score
from marketdata.models import FetchLog, Instrument, PriceBar

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
HSI_CSV = settings.HINDSIGHT_OFFLINE_DATA_DIR / "HSI.csv"


# --- helpers -------------------------------------------------------------------------------------


def wait_for(predicate, timeout: float, message: str, *logs: Path, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    tails = "".join(f"\n--- {log.name}:\n{log.read_text()[-4000:]}" for log in logs if log.exists())
    pytest.fail(f"{message} (after {timeout:g}s){tails}")


def assert_scored_once_and_right(*instruments: Instrument) -> dict[int, str]:
    """Exactly one "scored" event per decided forecast, and each forecast's stored outcome equal to a
    clean run's on the bars now stored (a report: forecasts_score with persist=False)."""
    decided = sorted(Forecast.all_objects.exclude(status=Status.PENDING).values_list("pk", flat=True))
    events = sorted(ForecastEvent.objects.filter(action="scored").values_list("forecast_id", flat=True))
    assert events == decided, f"scored events {events} != decided forecasts {decided}"
    stored = {f.pk: f for f in Forecast.all_objects.all()}
    for instrument in instruments:
        report = forecasts_score(instrument, persist=False)
        for pk, result in report.results:
            f = stored[pk]
            assert (f.status, f.resolved_on) == (result.status, result.resolved_on), (
                f"forecast {pk}: stored {f.status} {f.resolved_on}, a clean run gives "
                f"{result.status} {result.resolved_on}"
            )
    return {pk: f.status for pk, f in stored.items()}


def http_call(port: int, method: str, path: str, body=None, headers=None, timeout: float = 60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(
            method,
            path,
            body=data,
            headers={
                "Host": "127.0.0.1",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if data else {}),
                **(headers or {}),
            },
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def editor_token(username: str = "editor") -> str:
    """A knox token for a staff superuser (editor and reviewer, whatever the write rules become)."""
    from knox.models import AuthToken

    user = get_user_model().objects.create_user(username, is_staff=True, is_superuser=True)
    return AuthToken.objects.create(user=user)[1]


def source_body(n: int, forecasts: list[dict]) -> dict:
    return {
        "url": f"https://news.example.com/fault-test/{n}",
        "publication": "Fault Test Daily",
        "title": f"Strategists on the Hang Seng, part {n}",
        "published": "2025-02-14",
        "forecasts": forecasts,
    }


def manage(*args: str, env: dict, timeout: float = 300, user: str | None = None):
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    if user:
        command = ["runuser", "-u", user, "--", *command]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def process_env(**extra: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "fault-test-key",
        "DJANGO_LOG_FORMAT": "plain",
        **extra,
    }


def log_count(log: Path, text: str) -> int:
    return log.read_text().count(text)


# --- Redis stopped under the web server and the worker ---------------------------------------------


HSI_CALLS = [
    # (quote, kind, target, deadline): each decided by the bundled HSI history.
    ("the HSI could reclaim 23,200", "reach", 23200, "2025-12-31"),
    ("the index may fall back to 16,000", "reach", 16000, "2025-06-30"),
    ("the HSI can hold above 19,000 into March", "close_above", 19000, "2025-03-31"),
]


def test_redis_stopped_under_web_and_worker_then_the_sweep_scores_everything_once(
    hsi, own_redis, start_worker, start_web
):
    producer, worker_log, _worker = start_worker(own_redis.url)
    port, web_log, _web = start_web(own_redis.url)
    auth = {"Authorization": f"Token {editor_token()}"}
    wait_for(lambda: "ready." in worker_log.read_text(), 90, "the worker did not start", worker_log)

    def record(n: int, calls) -> tuple[int, float]:
        forecasts = [
            {
                "strategist": f"Fault Strategist {n}-{i}",
                "firm": "Fault Securities",
                "quote": quote,
                "instrument": "HSI",
                "kind": kind,
                "target": target,
                "deadline": deadline,
                "deadline_source": "stated",
            }
            for i, (quote, kind, target, deadline) in enumerate(calls)
        ]
        t = time.monotonic()
        status, body = http_call(port, "POST", "/api/sources/", source_body(n, forecasts), auth, timeout=60)
        elapsed = time.monotonic() - t
        assert status == 201, (status, body[:800], web_log.read_text()[-3000:])
        return len(json.loads(body)["forecasts"]), elapsed

    # 1. Redis hangs (SIGSTOP: connections are accepted, nothing answers). A forecast is recorded.
    own_redis.pause()
    made, elapsed = record(1, HSI_CALLS[:2])
    assert made == 2 and elapsed < 30, f"recording took {elapsed:.1f}s with Redis frozen"
    # 2. Redis dies (SIGTERM to the real process). Another forecast, then prices arrive by import.
    own_redis.stop()
    made, elapsed = record(2, HSI_CALLS[2:])
    assert made == 1 and elapsed < 30, f"recording took {elapsed:.1f}s with Redis down"
    imported = manage(
        "import_prices", str(HSI_CSV), env=process_env(DATABASE_URL=_db_url(), REDIS_URL=own_redis.url)
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert PriceBar.objects.filter(instrument=hsi).count() > 1000
    # The site still reads while Redis is down; /healthz says what is wrong.
    status, body = http_call(port, "GET", "/api/leaderboard/")
    assert status == 200, body[:500]
    status, body = http_call(port, "GET", "/healthz")
    assert status == 503 and json.loads(body)["redis"].startswith("error")
    assert Forecast.all_objects.count() == 3  # nothing lost
    pending_before = Forecast.all_objects.filter(status=Status.PENDING).count()

    # 3. Redis comes back (a new process, same port). Nobody touches the worker or the web server.
    own_redis.start()
    wait_for(
        lambda: http_call(port, "GET", "/healthz")[0] == 200, 60, "the web server did not recover", web_log
    )
    # The hourly sweep (what beat sends) re-queues scoring; sent twice, as overlapping beats might.
    for _ in range(2):
        producer.send_task("forecasts.tasks.score_all_pending")
    wait_for(
        lambda: not Forecast.all_objects.filter(status=Status.PENDING).exists(),
        120,
        f"the sweep did not score the {pending_before} pending forecasts",
        worker_log,
    )
    wait_for(
        lambda: (
            sum(
                "score_all_pending[" in line and "succeeded" in line
                for line in worker_log.read_text().splitlines()
            )
            == 2
        ),
        60,
        "the sweeps did not finish",
        worker_log,
    )
    statuses = assert_scored_once_and_right(hsi)
    assert sorted(statuses.values()) == sorted([Status.HIT, Status.MISS, Status.HIT])
    text = worker_log.read_text()
    assert "score_all_pending" in text and "succeeded" in text
    # The worker saw the broker go and come back, and kept working without a restart.
    assert _worker.poll() is None


def _db_url() -> str:
    from tests.conftest import test_database_url

    return test_database_url()


# --- the provider: slow, garbage, revising; the worker killed in the middle of an upsert ---------------


def many_forecasts(instrument: Instrument, n: int, *, first_target: float, step: float, deadline: date):
    """n pending 'reach' calls by 20 strategists in one source published 2025-02-14 (drafts)."""
    from forecasts import services
    from tests.factories import SourceFactory, StrategistFactory

    source = SourceFactory()
    people = [StrategistFactory() for _ in range(20)]
    for i in range(n):
        services.forecast_create(
            strategist=people[i % 20],
            source=source,
            instrument=instrument,
            kind="reach",
            quote=f"call {i}",
            target=first_target + step * i,
            deadline=deadline,
            deadline_source="stated",
            publish=False,
        )


def safely(query):
    """A query from the test process that survives its own connection dying (PostgreSQL restarts)."""
    from django.db import OperationalError as DjangoOperationalError
    from django.db import connection as conn

    def run():
        try:
            return query()
        except DjangoOperationalError:
            conn.close()
            return None

    return run


def decided_count() -> int:
    return Forecast.all_objects.exclude(status=Status.PENDING).count()


def hsi_rows() -> list[str]:
    return HSI_CSV.read_text().splitlines()


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class HangingVendor:
    """A loopback 'proxy' that accepts every connection and never answers: a vendor that hangs."""

    def __init__(self):
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections: list = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)  # held open, never answered

    def close(self):
        self.sock.close()
        for conn in self.connections:
            conn.close()


def test_a_hanging_vendor_times_out_and_the_fallback_fills_in(hsi, own_redis, start_worker):
    """The primary (Yahoo, over the network) hangs: every connection it opens is accepted and never
    answered. Each call is abandoned after the time-out, nothing is written, the offline fallback
    fills in, and the forecasts are scored once from its bars."""
    many_forecasts(hsi, 3, first_target=23000, step=100, deadline=date(2025, 12, 31))
    vendor = HangingVendor()
    proxy = f"http://127.0.0.1:{vendor.port}"
    try:
        producer, log, _ = start_worker(
            own_redis.url,
            HINDSIGHT_PRICE_PROVIDER="yahoo",
            HINDSIGHT_FALLBACK_PROVIDERS="XHKG=offline",
            HINDSIGHT_PROVIDER_TIMEOUT="3",
            HINDSIGHT_PROVIDER_ATTEMPTS="2",
            HINDSIGHT_PROVIDER_BACKOFF="0.2",
            HTTPS_PROXY=proxy,
            https_proxy=proxy,
            HTTP_PROXY=proxy,
            http_proxy=proxy,
            NO_PROXY="",
            no_proxy="",
        )
        t = time.monotonic()
        producer.send_task("marketdata.tasks.refresh_prices", args=[hsi.pk])
        wait_for(lambda: decided_count() == 3, 120, "the fallback did not score the forecasts", log)
        took = time.monotonic() - t
    finally:
        vendor.close()
    assert vendor.connections, "the worker never reached the (hanging) vendor"
    logs = list(FetchLog.objects.filter(instrument=hsi).order_by("pk"))
    assert [(x.provider, x.outcome, x.fallback_used) for x in logs] == [
        ("yahoo", "failed", False),
        ("offline", "ok", True),
    ], [(x.provider, x.outcome, x.error) for x in logs]
    assert "no answer within 3s" in logs[0].error
    assert took < 60, f"two 3 s time-outs took {took:.0f}s"
    assert PriceBar.objects.filter(instrument=hsi, source="offline").count() == logs[1].rows
    assert not PriceBar.objects.filter(instrument=hsi).exclude(source="offline").exists()
    assert_scored_once_and_right(hsi)


def test_garbage_from_the_provider_writes_nothing_then_good_data_scores_once(
    hsi, own_redis, start_worker, tmp_path
):
    """The vendor's file is garbage (a truncated row deep inside 1,300 good ones): the refresh fails
    with the reason in the fetch log and writes no bar at all; once the vendor answers properly the
    next refresh stores everything and every forecast is scored exactly once."""
    data = tmp_path / "vendor"
    data.mkdir()
    rows = hsi_rows()
    garbled = [
        *rows[:900],
        "2025-01-10,19100.5,19240.1,18977.0",
        "<html>Service Unavailable</html>",
        *rows[900:],
    ]
    (data / "HSI.csv").write_text("\n".join(garbled) + "\n")
    many_forecasts(hsi, 40, first_target=21000, step=100, deadline=date(2025, 12, 31))
    producer, log, _ = start_worker(own_redis.url, HINDSIGHT_OFFLINE_DATA_DIR=str(data))

    producer.send_task("marketdata.tasks.refresh_prices", args=[hsi.pk])
    failed = wait_for(
        lambda: FetchLog.objects.filter(instrument=hsi, outcome="failed").first(),
        90,
        "the garbage was not reported",
        log,
    )
    assert "expected 6 fields, got 4" in failed.error, failed.error
    wait_for(
        lambda: "refresh_prices" in log.read_text() and "ProviderDataError" in log.read_text(), 30, "", log
    )
    assert PriceBar.objects.filter(instrument=hsi).count() == 0  # not the 900 good rows before it
    assert decided_count() == 0 and not ForecastEvent.objects.filter(action="scored").exists()

    write_atomically(data / "HSI.csv", "\n".join(rows) + "\n")  # the vendor is fixed
    producer.send_task("marketdata.tasks.refresh_prices", args=[hsi.pk])  # the next scheduled refresh
    wait_for(lambda: decided_count() == 40, 120, "good data did not score the forecasts", log)
    assert PriceBar.objects.filter(instrument=hsi).count() == len(rows) - 1
    assert_scored_once_and_right(hsi)


def _revised(rows: list[str], start: str, end: str, factor: float) -> list[str]:
    out = [rows[0]]
    for line in rows[1:]:
        day, *values = line.split(",")
        if start <= day <= end:
            values = [f"{float(v) * factor:.2f}" for v in values[:4]] + values[4:]
        out.append(",".join([day, *values]))
    return out


def test_a_bar_revised_while_scoring_runs_leaves_every_forecast_as_a_clean_run_scores_it(
    hsi, own_redis, start_worker, tmp_path
):
    """Two pool processes. The first refresh stores the bars and its scoring of 1,500 forecasts
    starts; half-way through, the vendor revises the February-March 2025 bars (3% lower) and a
    second refresh stores the revision and queues a rescoring that runs alongside the first. At the
    end every forecast must be what a clean run on the revised bars gives, each scored once."""
    data = tmp_path / "vendor"
    data.mkdir()
    rows = hsi_rows()
    (data / "HSI.csv").write_text("\n".join(rows) + "\n")
    n = 1500
    many_forecasts(hsi, n, first_target=21500, step=2, deadline=date(2025, 12, 31))
    producer, log, _ = start_worker(
        own_redis.url,
        concurrency=2,
        HINDSIGHT_OFFLINE_DATA_DIR=str(data),
        HINDSIGHT_REFRESH_OVERLAP_DAYS="10000",  # every refresh re-reads the whole history
    )
    producer.send_task("marketdata.tasks.refresh_prices", args=[hsi.pk])
    wait_for(lambda: decided_count() > 0, 120, "scoring never started", log, every=0.02)
    write_atomically(data / "HSI.csv", "\n".join(_revised(rows, "2025-02-17", "2025-03-31", 0.97)) + "\n")
    producer.send_task("marketdata.tasks.refresh_prices", args=[hsi.pk])
    wait_for(
        lambda: log_count(log, "succeeded in") >= 4,  # two refreshes, two scorings
        180,
        "the refreshes and their scorings did not all finish",
        log,
    )
    mid = decided_count()
    from marketdata.models import PriceBarRevision

    revised = PriceBarRevision.objects.filter(instrument=hsi).count()
    assert revised > 20, f"the revision was not stored ({revised} bar revisions)"
    assert "a refresh of it is already running" not in log.read_text()
    assert mid == n, f"{n - mid} forecasts left pending"
    assert_scored_once_and_right(hsi)


def _synthetic_btc(days: int) -> str:
    """A calm random walk ending three days ago: every day is a 24/7 session."""
    import random

    rng = random.Random(16)
    end = timezone.now().date() - timedelta(days=3)
    price, lines = 20000.0, ["date,open,high,low,close,volume"]
    for k in range(days):
        day = end - timedelta(days=days - 1 - k)
        new = price * (1 + rng.gauss(0, 0.01))
        lines.append(
            f"{day},{price:.2f},{max(price, new) * 1.002:.2f},{min(price, new) * 0.998:.2f},{new:.2f},1000"
        )
        price = new
    return "\n".join(lines) + "\n"


def _worker_backend_writing(table: str):
    """Is some other backend inside a transaction that has written (has an xid) and touches table?"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_xid IS NOT NULL "
            "AND state <> 'idle' AND query ILIKE %s",
            [f"%{table}%"],
        )
        return cursor.fetchone()[0] > 0


def test_worker_killed_during_a_price_upsert_leaves_all_bars_or_none(own_redis, start_worker, tmp_path):
    """A backfill of 9,000 daily bars is one transaction. The pool process is SIGKILLed while it is
    inside it (its PostgreSQL backend has written rows not yet committed): no bar of the batch may be
    visible afterwards. The dead process held the instrument's Redis lock; the redelivered task must
    not be skipped as "already running" (issue 16: it was, for the 15 minutes the lock used to last):
    the lock's lease runs out (marketdata.locks), the redelivery retries, stores all the bars and
    every forecast is scored once."""
    from marketdata.services import get_or_create_instrument
    from marketdata.tasks import LOCK_LEASE_SECONDS

    require_pg()
    days = 9000
    data = tmp_path / "vendor"
    data.mkdir()
    (data / "BTC-USD.csv").write_text(_synthetic_btc(days))
    btc = get_or_create_instrument("BTC-USD")[0]
    many_forecasts(btc, 5, first_target=1000, step=1000, deadline=timezone.now().date() - timedelta(days=5))
    producer, log, proc = start_worker(
        own_redis.url, HINDSIGHT_OFFLINE_DATA_DIR=str(data), HINDSIGHT_BACKFILL_DAYS=str(days + 400)
    )
    producer.send_task("marketdata.tasks.refresh_prices", args=[btc.pk])
    wait_for(
        lambda: _worker_backend_writing("marketdata_pricebar"),
        120,
        "the upsert never started",
        log,
        every=0.002,
    )
    for pid in _children(proc.pid):
        os.kill(pid, signal.SIGKILL)
    t = time.monotonic()
    seen = PriceBar.objects.filter(instrument=btc).count()
    assert seen == 0, f"{seen} of {days} bars of a killed upsert are visible"
    wait_for(lambda: decided_count() == 5, 150, "the redelivered refresh did not finish", log)
    took = time.monotonic() - t
    assert PriceBar.objects.filter(instrument=btc).count() == days
    text = log.read_text()
    assert "WorkerLostError" in text or "exited prematurely" in text
    assert "redelivered while its lock is held" in text and "Retry in" in text, text[-3000:]
    assert "a refresh of it is already running" not in text
    assert_scored_once_and_right(btc)
    # Back within about one lease of the kill (plus the upsert and the scoring), not the old 15 minutes.
    assert LOCK_LEASE_SECONDS <= took < LOCK_LEASE_SECONDS + 90, f"recovered {took:.0f}s after the kill"


HOLD_A_LOCK = """
import time
from marketdata.locks import job_lock
with job_lock("fault-test:lease", timeout=120, lease=2) as got:
    print("held" if got else "busy", flush=True)
    time.sleep(600)
"""


def test_the_cache_keeps_one_redis_client_through_a_restart(own_redis):
    """config.cache builds its redis.Redis client once per pool (not per call, as Django's does): the
    same client answers before Redis stops, degrades to misses while it is down, and answers again
    once a new Redis process is up on the port, without being rebuilt."""
    from config.cache import ResilientRedisCache

    cache = ResilientRedisCache(own_redis.url, {"KEY_PREFIX": "client-reuse"})
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    cache.set("k", "before", 60)
    assert cache.get("k") == "before"
    own_redis.stop()
    assert cache.get("k", "missing") == "missing"
    own_redis.start()
    cache.set("k", "after", 60)
    assert cache.get("k") == "after" and cache._cache.get_client() is client


@pytest.mark.django_db(transaction=False)
def test_a_live_holder_keeps_its_redis_lock_and_a_dead_one_loses_it_within_the_lease(own_redis, settings):
    """The lease behind the refresh lock (marketdata.locks), with a real holder process: while it lives,
    its heartbeat keeps the 2 s lease for several leases; SIGKILLed, its lock is free within one lease."""
    from marketdata.locks import job_lock

    settings.REDIS_URL = own_redis.url
    holder = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", HOLD_A_LOCK],
        cwd=ROOT,
        env=process_env(REDIS_URL=own_redis.url, DATABASE_URL=_db_url()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        said = []
        for line in holder.stdout:  # until it says whether it holds the lock, or exits
            said.append(line.strip())
            if said[-1] in ("held", "busy"):
                break
        assert said and said[-1] == "held", "\n".join(said)
        import redis

        token = redis.Redis.from_url(own_redis.url).get("hindsight:lock:fault-test:lease").decode()
        assert f":{holder.pid}:" in token, token  # the lock names its holder
        until = time.monotonic() + 7  # three and a half leases
        while time.monotonic() < until:
            with job_lock("fault-test:lease", lease=2) as got:
                assert not got, "a live holder lost its lock when its lease ran out"
            time.sleep(0.25)
        holder.kill()
        holder.wait(10)
        killed = time.monotonic()
        while True:
            with job_lock("fault-test:lease", lease=2) as got:
                if got:
                    break
            assert time.monotonic() - killed < 3, "the dead holder's lock outlived its lease"
            time.sleep(0.05)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(10)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def require_pg() -> None:
    from tests.conftest import require_service

    require_service("PostgreSQL", connection.vendor == "postgresql")


# --- the embedded default: SQLite on a read-only or full disk -------------------------------------------


class Disk:
    """A small filesystem for one SQLite file: a real tmpfs (root) that can be made read-only or full;
    without root, the file mode (read-only) and RLIMIT_FSIZE (full) stand in."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir()
        self.mounted = (
            os.geteuid() == 0
            and subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(path)], capture_output=True
            ).returncode
            == 0
        )
        self.fsize_limit: int | None = None

    @property
    def kind(self) -> str:
        return "tmpfs (real EROFS/ENOSPC)" if self.mounted else "chmod + RLIMIT_FSIZE (simulated)"

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.path)], check=True)

    def read_only(self, on: bool) -> None:
        if self.mounted:
            self.remount("ro" if on else "rw")
        else:
            for p in [self.path, *self.path.iterdir()]:
                p.chmod((0o555 if p.is_dir() else 0o444) if on else (0o755 if p.is_dir() else 0o644))

    def full(self, on: bool, db: Path) -> None:
        """Leave room for a few pages more than the database holds now."""
        if self.mounted:
            used = sum(p.stat().st_size for p in self.path.iterdir())
            self.remount(f"size={used + 48 * 1024}" if on else "size=64m")
        else:
            self.fsize_limit = db.stat().st_size + 48 * 1024 if on else None

    def preexec(self):
        limit = self.fsize_limit
        if limit is None:
            return None

        def set_limit():
            import resource

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        return set_limit

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=False)


def _bars_in(db: Path) -> dict[str, float]:
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return dict(conn.execute("SELECT session, close FROM marketdata_pricebar"))


@pytest.mark.django_db(transaction=False)
def test_sqlite_on_a_read_only_or_full_disk_fails_clearly_and_writes_nothing(tmp_path):
    """The embedded default (`make run`): manage.py import_prices into a SQLite file whose disk is made
    read-only, then full. Each time the command fails with SQLite's own words, the file is intact and
    holds exactly what it held before; once the disk is writable again the same import stores all."""
    disk = Disk(tmp_path / "disk")
    try:
        db = disk.path / "db.sqlite3"
        env = process_env(DATABASE_URL=f"sqlite:///{db}", REDIS_URL="", HINDSIGHT_PRICE_PROVIDER="offline")
        env.pop("HINDSIGHT_TEST_REDIS_URL", None)
        done = manage("migrate", "--no-input", "-v0", env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        rows = hsi_rows()
        first = tmp_path / "HSI.csv"
        first.write_text("\n".join(rows[:600]) + "\n")
        assert manage("import_prices", str(first), env=env).returncode == 0
        before = _bars_in(db)
        assert len(before) == 599
        everything = tmp_path / "all" / "HSI.csv"
        everything.parent.mkdir()
        everything.write_text("\n".join(_revised(rows, "2022-01-01", "2022-06-30", 1.01)) + "\n")

        def attempt(**kw):
            return subprocess.run(
                [sys.executable, str(ROOT / "manage.py"), "import_prices", str(everything)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                **kw,
            )

        disk.read_only(True)
        try:
            refused = attempt()
        finally:
            disk.read_only(False)
        assert refused.returncode != 0
        last = refused.stderr.strip().splitlines()[-1]
        assert "readonly database" in last or "read-only" in last, refused.stderr[-2000:]
        assert _bars_in(db) == before

        disk.full(True, db)
        try:
            refused = attempt(preexec_fn=disk.preexec())
        finally:
            disk.full(False, db)
        assert refused.returncode != 0
        last = refused.stderr.strip().splitlines()[-1]
        assert "database or disk is full" in last or "disk I/O error" in last, refused.stderr[-2000:]
        assert _bars_in(db) == before, "a half-written import is visible"

        done = attempt()
        assert done.returncode == 0, done.stderr[-2000:]
        after = _bars_in(db)
        assert len(after) == len(rows) - 1
        revised = [d for d in after if "2022-01-01" <= d <= "2022-06-30"]
        assert revised and all(after[d] != before.get(d) for d in revised if d in before)
        print(f"disk faults: {disk.kind}")
    finally:
        disk.close()
