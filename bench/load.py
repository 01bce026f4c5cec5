"""A bounded load run (issue 8): concurrent clients against the leaderboard, a strategist page and the API.

    python -m tests.servers -- python bench/load.py [--clients 100] [--seconds 120]

Loads the demo into the throwaway PostgreSQL that tests.servers started, serves it with gunicorn
(production settings but plain HTTP on loopback, see bench/settings.py; the shared cache is the test
Redis), runs the clients, prints throughput and latency percentiles per path and overall, and exits
non-zero if any request failed (non-2xx, or a connection error). The anonymous API throttle is lifted
for the run: one loopback client would otherwise be throttled, which is the throttle working, not a
failure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web import start_gunicorn  # noqa: E402
from tests.servers import free_port  # noqa: E402

PATHS = ["/leaderboard/", "/strategists/geoff-kendrick/", "/api/strategists/alvin-ngan/track-record/"]


def run(port: int, clients: int, seconds: float) -> dict:
    results: dict[str, list[float]] = {p: [] for p in PATHS}
    failures: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        k = i
        local: dict[str, list[float]] = {p: [] for p in PATHS}
        local_fail: dict[str, int] = {}
        while time.monotonic() < stop:
            path = PATHS[k % len(PATHS)]
            k += 1
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 300
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                key = f"{path} {type(exc).__name__}"
                local_fail[key] = local_fail.get(key, 0) + 1
            else:
                if not ok:
                    key = f"{path} HTTP {response.status}"
                    local_fail[key] = local_fail.get(key, 0) + 1
            if ok:
                local[path].append(time.perf_counter() - t)
        with lock:
            for p, v in local.items():
                results[p].extend(v)
            for key, n in local_fail.items():
                failures[key] = failures.get(key, 0) + n

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started

    def summary(lat: list[float]) -> dict:
        lat = sorted(lat)
        pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1) if lat else None  # noqa: E731
        return {
            "requests": len(lat),
            "rps": round(len(lat) / elapsed, 1),
            "p50_ms": pct(0.5),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
        }

    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "overall": summary([x for v in results.values() for x in v]),
        "paths": {p: summary(v) for p, v in results.items()},
        "failures": failures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    if not database_url or not database_url.startswith("postgres"):
        print("run through tests.servers (a throwaway PostgreSQL): make load", file=sys.stderr)
        return 2
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings", HINDSIGHT_API_ANON_RATE="1000000/minute")
    if os.environ.get("HINDSIGHT_TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["HINDSIGHT_TEST_REDIS_URL"]
    os.environ.update(env)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], check=True, env=env)
    subprocess.run([*manage, "load_demo", "--no-admin"], check=True, env=env, stdout=subprocess.DEVNULL)
    port = free_port()
    server = start_gunicorn(port, database_url, workers=args.workers)
    try:
        report = run(port, args.clients, args.seconds)
    finally:
        server.terminate()
        server.wait(30)
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "load-results.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
