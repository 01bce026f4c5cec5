"""Serve the site with gunicorn on loopback and drive it with a small threaded HTTP client."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_gunicorn(port: int, database_url: str, workers: int = 2) -> subprocess.Popen:
    # The anonymous rate limit is lifted for the run: a 429 is not a reader's answer (and is not counted).
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings", DATABASE_URL=database_url)
    env.setdefault("HINDSIGHT_API_ANON_RATE", "1000000/minute")
    # As in production: the shared Redis is the cache (page cache, data version) of every worker.
    if os.environ.get("HINDSIGHT_TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["HINDSIGHT_TEST_REDIS_URL"]
    binary = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [
            str(binary),
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _ = get(port, "/bench/trivial/")
            if status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not come up")


def get(port: int, path: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", "Accept": "text/html,application/json"})
        response = conn.getresponse()
        body = response.read()
        return response.status, len(body)
    finally:
        conn.close()


def load(port: int, paths: list[str], seconds: float, concurrency: int = 4, before=None) -> dict:
    """Requests/second and latency percentiles over ``seconds``, ``concurrency`` client threads, cycling
    through ``paths`` (e.g. several strategists' pages). ``before()``, if given, runs before each request,
    outside the timing (the cold figures empty the cache there; use one thread then). Requests/second is
    then 1 / mean latency, the rate one reader after another would get."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        k = offset
        local, local_status = [], {}
        while time.monotonic() < stop:
            if before is not None:
                before()
            t = time.perf_counter()
            status, _ = get(port, paths[k % len(paths)])
            if status == 200:  # only successful answers count as throughput or latency
                local.append(time.perf_counter() - t)
            local_status[status] = local_status.get(status, 0) + 1
            k += 1
        with lock:
            latencies.extend(local)
            for s, n in local_status.items():
                statuses[s] = statuses.get(s, 0) + n

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    lat = sorted(latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    rps = len(lat) / elapsed if before is None else (len(lat) / sum(lat) if lat else 0.0)
    return {
        "requests": len(lat),
        "rps": rps,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "statuses": statuses,
        "failures": sum(n for s, n in statuses.items() if s != 200),
    }
