"""A bounded load run (issues 8, 16): readers and editors at once, with limits.

    python -m tests.servers -- python bench/load.py [--clients 100] [--seconds 120] [--p95-ms 5000]

Loads the demo into the throwaway PostgreSQL that tests.servers started, serves it with gunicorn
(production settings but plain HTTP on loopback, see bench/settings.py; the shared cache is the test
Redis) and runs the clients: readers cycle through the leaderboard page, a strategist page, the
leaderboard API and a track record; editors (one client in ten, at least two) record forecasts through
the API (POST /api/sources/ with a knox token each).

It exits non-zero if any request failed (non-2xx, a connection error, or an answer without the content
it must have: a leaderboard listing strategists, a track record that parses as JSON with its keys), if
the overall p95 latency is above --p95-ms, or if any forecast an editor got a 201 for is missing from
the database afterwards (counted with Django in this process, drafts included: all_objects), or if the
worker has not scored every one of them within a minute of the end (scoring is coalesced per
instrument, forecasts.services.queueing). The anonymous API throttle is lifted for the run: one
loopback client would otherwise be throttled, which is the throttle working, not a failure.

The p95 bound: the failing bound (--p95-ms, 5 s) is loose, for a shared machine, and catches a page
that became many times slower; the line printed at the end also compares p95 with issue 13's target
(250 ms for 100 clients over 2 minutes; 219-238 ms in four runs, BENCHMARKS.md). The clients wait for
each answer and send the next at once, so on 2 cores p95 is mostly queueing: 100 / throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web import start_gunicorn  # noqa: E402

CELERY = str(Path(sys.executable).with_name("celery"))
from tests.servers import free_port  # noqa: E402

WRITE = "POST /api/sources/"
P95_TARGET_MS = 250  # issue 13, for 100 clients over 2 minutes (make load); --p95-ms is the failing bound
PATHS = [
    "/leaderboard/",
    "/strategists/geoff-kendrick/",
    "/api/leaderboard/",
    "/api/strategists/alvin-ngan/track-record/",
]
TRACK_RECORD_KEYS = {"strategist", "summary", "forecasts"}


def check_content(path: str, body: bytes) -> str | None:
    """Why the answer is wrong, or None. Each path must carry what a reader came for."""
    if path == "/leaderboard/":
        text = body.decode("utf-8", "replace")
        if text.count('href="/strategists/') < 3 or "Geoff Kendrick" not in text:
            return "leaderboard page lists no strategists"
    elif path == "/strategists/geoff-kendrick/":
        if "Geoff Kendrick" not in body.decode("utf-8", "replace"):
            return "strategist page without the strategist"
    elif path == "/api/leaderboard/":
        try:
            rows = json.loads(body)["results"]
        except (ValueError, KeyError, TypeError):
            return "leaderboard API is not JSON with results"
        if len(rows) < 3 or not all(r.get("slug") and r.get("name") for r in rows):
            return "leaderboard API lists no strategists"
    elif path.endswith("/track-record/"):
        try:
            record = json.loads(body)
        except ValueError:
            return "track record is not JSON"
        if not isinstance(record, dict) or not set(record) >= TRACK_RECORD_KEYS:
            return f"track record lacks {sorted(TRACK_RECORD_KEYS - set(record or {}))}"
        if record["strategist"].get("slug") != "alvin-ngan" or not record["forecasts"]:
            return "track record of the wrong strategist, or empty"
    return None


def forecast_body(editor: int, n: int, target: float) -> dict:
    return {
        "url": f"https://load.example.com/editor-{editor}/article-{n}",
        "publication": "Load Test Daily",
        "title": f"Editor {editor}, article {n}",
        "published": "2026-08-26",
        "forecasts": [
            {
                "strategist": f"Load Strategist {editor}-{n}",
                "firm": "Load Securities",
                "quote": f"the Hang Seng could reach {target:,.0f} (article {n})",
                "instrument": "HSI",
                "kind": "reach",
                "target": target,
            }
        ],
    }


# The client speaks HTTP/1.0 over a plain socket, one connection per request (gunicorn's sync workers
# close each connection anyway): the answer is read to the end and split at the header, so the client's
# own CPU per request, on the same two cores it measures, is a fraction of http.client's. What it checks
# in every answer is the same (check_content).
def read_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/html,application/json\r\n\r\n".encode()


def write_request(token: str, body: bytes) -> bytes:
    head = (
        "POST /api/sources/ HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nAuthorization: Token {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def exchange(port: int, request: bytes) -> tuple[int, bytes]:
    """(status, body) of one request; ValueError for an answer that is not HTTP or is cut short."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(262144):
            chunks.append(chunk)
    answer = b"".join(chunks)
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/"):
        raise ValueError("not an HTTP answer")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(None, 2)[1])
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and int(value) != len(body):
            raise ValueError(f"body of {len(body)} bytes, Content-Length {int(value)}")
    return status, body


def run(port: int, clients: int, seconds: float, tokens: list[str], target: float) -> dict:
    results: dict[str, list[float]] = {p: [] for p in [*PATHS, WRITE]}
    failures: dict[str, int] = {}
    written: list[int] = []  # ids of forecasts answered with a 201
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    reads = {p: read_request(p) for p in PATHS}

    def client(i: int) -> None:
        editor = i if i < len(tokens) else None
        k, n = i, 0
        local: dict[str, list[float]] = {p: [] for p in results}
        local_fail: dict[str, int] = {}
        local_written: list[int] = []
        while time.monotonic() < stop:
            if editor is not None:
                path = WRITE
                n += 1
                body = json.dumps(forecast_body(editor, n, target + n)).encode()
                request = write_request(tokens[editor], body)
            else:
                path = PATHS[k % len(PATHS)]
                request = reads[path]
                k += 1
            t = time.perf_counter()
            problem = None
            try:
                status, content = exchange(port, request)
            except (OSError, ValueError) as exc:
                problem = type(exc).__name__
            else:
                elapsed = time.perf_counter() - t
                if path == WRITE:
                    if status != 201:
                        problem = f"HTTP {status} {content[:200]!r}"
                    else:
                        local_written.extend(f["id"] for f in json.loads(content)["forecasts"])
                elif not 200 <= status < 300:
                    problem = f"HTTP {status}"
                else:
                    problem = check_content(path, content)
            if problem:
                key = f"{path} {problem}"
                local_fail[key] = local_fail.get(key, 0) + 1
            else:
                local[path].append(elapsed)
        with lock:
            for p, v in local.items():
                results[p].extend(v)
            for key, count in local_fail.items():
                failures[key] = failures.get(key, 0) + count
            written.extend(local_written)

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
        "editors": len(tokens),
        "seconds": round(elapsed, 1),
        "overall": summary([x for v in results.values() for x in v]),
        "paths": {p: summary(v) for p, v in results.items()},
        "failures": failures,
        "written_ids": written,
    }


def setup_editors(count: int) -> tuple[list[str], float]:
    """Editors (staff, in the Editors group when it exists) with a knox token each, and a plausible
    HSI target (5% above the last close)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from knox.models import AuthToken

    from marketdata.models import PriceBar

    group = Group.objects.filter(name="Editors").first()
    tokens = []
    for i in range(count):
        user, _ = get_user_model().objects.get_or_create(
            username=f"load-editor-{i}", defaults={"is_staff": True}
        )
        if group:
            user.groups.add(group)
        tokens.append(AuthToken.objects.create(user=user)[1])
    close = (
        PriceBar.objects.filter(instrument__symbol="HSI")
        .order_by("-session")
        .values_list("close", flat=True)[0]
    )
    return tokens, round(close * 1.05)


def recorded(ids: list[int]) -> tuple[int, int]:
    """(forecasts found in the database, of those the editors got a 201 for), drafts included."""
    from forecasts.models import Forecast

    found = 0
    for start in range(0, len(ids), 1000):
        found += Forecast.all_objects.filter(pk__in=ids[start : start + 1000]).count()
    return found, len(ids)


def wait_scored(ids: list[int], seconds: float) -> int:
    """How many of the forecasts are still unscored (scored_at null) once `seconds` have passed, or
    sooner when none is."""
    from forecasts.models import Forecast

    deadline = time.monotonic() + seconds
    while True:
        left = sum(
            Forecast.all_objects.filter(pk__in=ids[i : i + 1000], scored_at__isnull=True).count()
            for i in range(0, len(ids), 1000)
        )
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--p95-ms", type=float, default=5000, help="fail above this overall p95 latency")
    parser.add_argument("--editors", type=int, default=None, help="writing clients (default: clients / 10)")
    args = parser.parse_args()
    editors = args.editors if args.editors is not None else max(2, args.clients // 10)
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
    tokens, target = setup_editors(editors)
    port = free_port()
    server = start_gunicorn(port, database_url, workers=args.workers)
    # As in production: recording queues scoring on the shared Redis and a worker process does it,
    # so the editors' writes do not score inside the web workers the readers are waiting on.
    worker = None
    if env.get("REDIS_URL"):
        worker = subprocess.Popen(
            [CELERY, "-A", "config", "worker", "--concurrency", "1", "--loglevel", "warning"],
            cwd=ROOT,
            env={**env, "DATABASE_URL": database_url},
        )
    try:
        report = run(port, args.clients, args.seconds, tokens, target)
        # The worker scores what the editors recorded (coalesced, a second after the last write): wait
        # for it before stopping it, and count what it has not scored.
        report["unscored_after_wait"] = wait_scored(report["written_ids"], 60 if worker else 0)
    finally:
        server.terminate()
        server.wait(30)
        if worker is not None:
            worker.terminate()
            worker.wait(60)
    ids = report.pop("written_ids")
    found, posted = recorded(ids)
    overall = report["overall"]
    report["written"] = {"posted_201": posted, "found_in_database": found}
    report["p95_bound_ms"] = args.p95_ms
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "load-results.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    problems = []
    if report["failures"]:
        problems.append(f"{sum(report['failures'].values())} failed requests")
    if overall["p95_ms"] is None or overall["p95_ms"] > args.p95_ms:
        problems.append(f"p95 {overall['p95_ms']} ms above the bound of {args.p95_ms:g} ms")
    if posted == 0:
        problems.append("the editors recorded nothing")
    if found != posted:
        problems.append(f"{posted - found} of {posted} recorded forecasts missing from the database")
    if report["unscored_after_wait"]:
        problems.append(f"{report['unscored_after_wait']} recorded forecasts never scored by the worker")
    print(
        f"load: {overall['requests']} requests, {overall['rps']} req/s; p50 {overall['p50_ms']} ms, "
        f"p95 {overall['p95_ms']} ms (bound {args.p95_ms:g} ms; issue 13 target < {P95_TARGET_MS} ms: "
        f"{'met' if (overall['p95_ms'] or 1e9) < P95_TARGET_MS else 'MISSED'}), p99 {overall['p99_ms']} ms; "
        f"{sum(report['failures'].values())} errors; forecasts written {posted}, found {found}, "
        f"unscored {report['unscored_after_wait']}"
    )
    for problem in problems:
        print(f"load: FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
