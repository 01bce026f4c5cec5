"""Throwaway PostgreSQL and Redis servers for the test suite.

    python -m tests.servers -- pytest ...

starts a private PostgreSQL (initdb in a temporary folder, fsync off) and a
private redis-server on free loopback ports, runs the command with
DATABASE_URL and HINDSIGHT_TEST_REDIS_URL pointing at them, and removes both
afterwards. Nothing outside the temporary folder is touched.

When a server binary is missing the suite still runs (on SQLite, service tests
skipped) unless HINDSIGHT_REQUIRE_SERVICES=1, as in CI, where a missing
service is an error.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path


class ServiceUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _run_as(user: str | None) -> list[str]:
    # initdb and postgres refuse to run as root; run them as an unprivileged user.
    return ["runuser", "-u", user, "--"] if user else []


def _unprivileged_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "hindsight-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "hindsight-pg"], check=True)
    return "hindsight-pg"


@contextmanager
def postgres(workdir: Path):
    """Yield a DATABASE_URL for a fresh PostgreSQL cluster; stop it on exit."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise ServiceUnavailable("PostgreSQL (initdb/pg_ctl) not found; apt-get install postgresql")
    user = _unprivileged_user()
    data, sock = workdir / "pgdata", workdir / "pgsock"
    sock.mkdir()
    if user:
        shutil.chown(workdir, user)
        shutil.chown(sock, user)
    port = free_port()
    subprocess.run(
        [
            *_run_as(user),
            initdb,
            "-D",
            str(data),
            "-U",
            "hindsight",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=100"
    )
    log = workdir / "postgres.log"
    if user:
        log.touch()
        shutil.chown(log, user)
    subprocess.run(
        [*_run_as(user), pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # Fault tests restart this server: tell them where it lives and how to run pg_ctl.
    os.environ["HINDSIGHT_TEST_PG_CTL"] = json.dumps(
        [*_run_as(user), pg_ctl, "-D", str(data), "-l", str(log)]
    )
    try:
        url = f"postgres://hindsight@127.0.0.1:{port}/hindsight"
        import psycopg

        with psycopg.connect(f"postgresql://hindsight@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE hindsight")
        yield url
    finally:
        subprocess.run(
            [*_run_as(user), pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


def redis_server_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )


class RedisServer:
    """A redis-server process owned by its creator, on a port that survives restarts.

    Fault tests stop the real process (SIGTERM), freeze it (SIGSTOP) and start a new one on the
    same port, without touching the session's shared Redis.
    """

    def __init__(self, workdir: Path, port: int | None = None):
        binary = redis_server_binary()
        if not binary:
            raise ServiceUnavailable("redis-server not found; apt-get install redis-server")
        self.binary, self.workdir = binary, Path(workdir)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "redis-server is not running"
        return self.proc.pid

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def pause(self) -> None:
        """SIGSTOP: the socket still accepts connections, nothing answers (a hung server)."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the real process (after SIGCONT, should it be frozen) and wait until it is gone."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self.proc = None
        wait_for_port_closed(self.port)

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()


@contextmanager
def redis(workdir: Path):
    """Yield a redis:// URL for a private redis-server; stop it on exit."""
    server = RedisServer(workdir).start()
    try:
        yield server.url
    finally:
        server.stop()


def restart_postgres(mode: str = "fast", timeout: float = 60) -> None:
    """Restart the session's PostgreSQL (tests.servers started it): ``fast`` ends every backend."""
    pg_ctl = os.environ.get("HINDSIGHT_TEST_PG_CTL")
    if not pg_ctl:
        raise ServiceUnavailable("no restartable PostgreSQL (run through python -m tests.servers)")
    subprocess.run(
        [*json.loads(pg_ctl), "-m", mode, "-w", "-t", str(int(timeout)), "restart"],
        check=True,
        capture_output=True,
        timeout=timeout + 30,
    )


def wait_for_port_closed(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"127.0.0.1:{port} still listening after {timeout}s")


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ServiceUnavailable(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(__doc__)
        return 2
    command = argv[argv.index("--") + 1 :]
    required = os.environ.get("HINDSIGHT_REQUIRE_SERVICES") == "1"
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hindsight-test-")))
        os.chmod(workdir, 0o755)
        for name, starter, var in (
            ("PostgreSQL", postgres, "DATABASE_URL"),
            ("Redis", redis, "HINDSIGHT_TEST_REDIS_URL"),
        ):
            sub = workdir / name.lower()
            sub.mkdir()
            try:
                os.environ[var] = stack.enter_context(starter(sub))
                print(f"[servers] {name} at {os.environ[var]}", flush=True)
            except (ServiceUnavailable, subprocess.CalledProcessError, OSError) as exc:
                if required:
                    print(
                        f"[servers] {name} is required (HINDSIGHT_REQUIRE_SERVICES=1): {exc}", file=sys.stderr
                    )
                    return 3
                print(f"[servers] {name} unavailable, its tests will skip: {exc}", file=sys.stderr)
        return subprocess.run(command, env=dict(os.environ), check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
