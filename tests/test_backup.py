"""make backup / make restore: a PostgreSQL round trip keeps every record and the ledger intact."""

import csv
import subprocess
import sys

import psycopg
import pytest
from django.db import connection

from config.backup import dump, restore
from forecasts.editorial.importers import import_forecasts
from forecasts.models import Forecast
from tests.conftest import require_service
from tests.paths import DEMO_CSV

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
DEMO = DEMO_CSV
TABLES = [
    "forecasts_forecast",
    "forecasts_source",
    "forecasts_ledgerentry",
    "forecasts_forecastevent",
    "marketdata_pricebar",
]


def _url(dbname: str) -> str:
    d = connection.settings_dict
    return f"postgresql://{d['USER']}@{d['HOST']}:{d['PORT']}/{dbname}"


def _snapshot(url: str) -> dict:
    with psycopg.connect(url) as conn:
        out = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        out["ledger"] = conn.execute(
            "SELECT string_agg(digest, ',' ORDER BY seq) FROM forecasts_ledgerentry"
        ).fetchone()[0]
    return out


def test_backup_and_restore_round_trip(tmp_path, hsi_with_prices):
    require_service("PostgreSQL", connection.vendor == "postgresql")
    import_forecasts(DEMO.read_bytes())
    source_url = _url(connection.settings_dict["NAME"])
    before = _snapshot(source_url)
    with DEMO.open(encoding="utf-8") as f:
        demo_rows = sum(1 for _ in csv.DictReader(f))  # one forecast a row
    assert before["forecasts_forecast"] == demo_rows == Forecast.all_objects.count()
    assert before["marketdata_pricebar"] > 1000

    backup = tmp_path / "hindsight.dump"
    dump(backup, source_url)
    assert backup.stat().st_size > 10_000

    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS hindsight_restore_test")
        conn.execute("CREATE DATABASE hindsight_restore_test")
    try:
        restore(backup, _url("hindsight_restore_test"))
        assert _snapshot(_url("hindsight_restore_test")) == before
        # Restoring over existing data replaces it (clean), and the CLI reports errors by exit code.
        restore(backup, _url("hindsight_restore_test"))
        assert _snapshot(_url("hindsight_restore_test")) == before
        bad = subprocess.run(
            [sys.executable, "-m", "config.backup", "restore", str(tmp_path / "missing.dump")],
            capture_output=True,
            text=True,
        )
        assert bad.returncode != 0 and "no such backup file" in bad.stderr
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS hindsight_restore_test")
