"""Back up and restore the database named by DATABASE_URL.

    python -m config.backup dump FILE      # PostgreSQL: pg_dump custom format; SQLite: a consistent copy
    python -m config.backup restore FILE   # replaces the current contents

`make backup` / `make restore FILE=...` call these. PostgreSQL restores run
pg_restore --clean --if-exists in a single transaction, so a failed restore
leaves the database as it was.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise SystemExit(f"{name} not found: apt-get install postgresql-client")
    return found


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{Path(__file__).resolve().parent.parent / 'db.sqlite3'}"


def _libpq(url: str) -> str:
    # django-environ accepts postgres:// and postgresql://; libpq wants the latter.
    return "postgresql://" + url.split("://", 1)[1]


def dump(path: Path, url: str | None = None) -> None:
    url = url or _database_url()
    path.parent.mkdir(parents=True, exist_ok=True)
    scheme = urlparse(url).scheme
    if scheme.startswith("postgres"):
        subprocess.run(
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={path}", _libpq(url)], check=True
        )
    elif scheme == "sqlite":
        with sqlite3.connect(urlparse(url).path) as source, sqlite3.connect(path) as target:
            source.backup(target)
    else:
        raise SystemExit(f"unsupported database scheme {scheme!r}")


def restore(path: Path, url: str | None = None) -> None:
    url = url or _database_url()
    if not path.is_file():
        raise SystemExit(f"{path}: no such backup file")
    scheme = urlparse(url).scheme
    if scheme.startswith("postgres"):
        subprocess.run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={_libpq(url)}",
                str(path),
            ],
            check=True,
        )
    elif scheme == "sqlite":
        with sqlite3.connect(path) as source, sqlite3.connect(urlparse(url).path) as target:
            source.backup(target)
    else:
        raise SystemExit(f"unsupported database scheme {scheme!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("dump", "restore"):
        print(__doc__)
        return 2
    (dump if argv[0] == "dump" else restore)(Path(argv[1]))
    print(f"{argv[0]}: {argv[1]} done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
