"""CSV imports: prices and forecasts, through the management commands users run."""

import csv as csv_module
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forecasts.editorial.importers import ImportFailed, import_forecasts
from forecasts.models import Forecast, ForecastEvent, Source, Strategist
from marketdata.models import Instrument, PriceBar
from tests.paths import DEMO_CSV

pytestmark = pytest.mark.django_db

DEMO = DEMO_CSV
HEADER = (
    "strategist,firm,publication,url,title,published,quote,instrument,kind,target,target_upper,"
    "other_instrument,basis,deadline,deadline_source\n"
)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_prices_file_twice_changes_nothing(tmp_path):
    csv = tmp_path / "0700.HK.csv"
    csv.write_text("date,open,high,low,close,volume\n2025-02-13,,,,500.5,\n2025-02-14,501,510,499,508,1000\n")
    first = run("import_prices", str(csv))
    assert "new instrument, calendar XHKG" in first and "2 new" in first
    assert "0 new, 0 revised, 2 unchanged" in run("import_prices", str(csv))
    tencent = Instrument.objects.get(symbol="0700.HK")
    assert PriceBar.objects.filter(instrument=tencent).count() == 2
    blank = PriceBar.objects.get(instrument=tencent, session="2025-02-13")
    assert (blank.open, blank.high, blank.close) == (None, None, 500.5)


@pytest.mark.parametrize(
    ("symbol", "calendar"),
    [
        ("0700.HK", "XHKG"),
        ("HSTECH", "XHKG"),
        ("ETH-USD", "24/7"),
        ("USDJPY", "24/5"),
        ("EURUSD=X", "24/5"),
        ("MSFT", "XNYS"),
    ],
)
def test_import_prices_guesses_the_calendar(tmp_path, symbol, calendar):
    csv = tmp_path / "x.csv"
    csv.write_text("date,close\n2025-02-14,10\n")
    run("import_prices", str(csv), "--symbol", symbol)
    assert Instrument.objects.get(symbol=symbol).calendar_code == calendar


def test_import_prices_rejects_a_bad_file_naming_the_line(tmp_path):
    csv = tmp_path / "BAD.csv"
    csv.write_text("date,open,high,low,close,volume\n2025-02-14,1,2,0.5,1.5,10\n2025-02-17,1,2,0.5,abc,10\n")
    with pytest.raises(CommandError) as exc:
        run("import_prices", str(csv))
    assert "close" in str(exc.value) and ("line 3" in str(exc.value) or "2025-02-17" in str(exc.value))
    assert not PriceBar.objects.exists()


def test_import_prices_reports_non_sessions(tmp_path):
    csv = tmp_path / "HSI.csv"
    # 2023-09-08: HKEX closed all day for a black rainstorm, though exchange-calendars lists it as a session.
    csv.write_text("date,close\n2023-09-07,18449.98\n2023-09-08,18200\n2023-09-09,18200\n")
    out = run("import_prices", str(csv))
    assert "1 new" in out and "2023-09-08: not a XHKG session" in out and "2023-09-09" in out


def demo_rows() -> int:
    with DEMO.open(encoding="utf-8") as f:
        return sum(1 for _ in csv_module.DictReader(f))


def test_import_forecasts_demo_twice_changes_nothing():
    rows = demo_rows()
    first = run("import_forecasts", str(DEMO))
    assert f"{rows} forecasts created" in first
    counts = (
        Forecast.objects.count(),
        Source.objects.count(),
        Strategist.objects.count(),
        ForecastEvent.objects.count(),
    )
    assert f"0 forecasts created, {rows} already recorded" in run("import_forecasts", str(DEMO))
    assert counts == (
        Forecast.objects.count(),
        Source.objects.count(),
        Strategist.objects.count(),
        ForecastEvent.objects.count(),
    )
    ngan = Forecast.objects.get(strategist__slug="alvin-ngan")
    assert (ngan.kind, ngan.target, ngan.deadline_source, str(ngan.deadline)) == (
        "reach",
        23200,
        "none",
        "2026-02-14",
    )


def test_import_forecasts_is_all_or_nothing_and_names_row_and_column():
    text = HEADER + (
        "Ann Lee,Acme,Paper,https://x.example/1,,2025-02-14,q,HSI,reach,25000,,,close,2025-12-31,stated\n"
        "Bo Chan,Acme,Paper,https://x.example/2,,2025-02-14,q,HSI,reach,-5,,,close,2025-12-31,stated\n"
        "Cy Ho,Acme,Paper,https://x.example/3,,14/02/2025,q,HSI,reach,1,,,close,,\n"
        "Di Ng,Acme,Paper,https://x.example/4,,2025-02-14,q,HSI,range,30000,20000,,close,2025-12-31,stated\n"
        "Ed Po,Acme,Paper,https://x.example/5,,2025-02-14,q,HSI,outperform,,,,close,2025-12-31,stated\n"
        "Fu Qi,Acme,Paper,https://x.example/6,,2025-02-14,q,NOPE,reach,1,,,close,2025-12-31,stated\n"
        "Gu Ra,Acme,Paper,https://x.example/7,,2025-02-14,q,HSI,reach,30000,,,close,2025-01-01,stated\n"
    )
    with pytest.raises(ImportFailed) as exc:
        import_forecasts(text)
    errors = exc.value.errors
    assert "row 3, column target: The target must be greater than 0." in errors
    assert any(e.startswith("row 4, column published:") for e in errors)
    assert any(e.startswith("row 5, column target_upper:") for e in errors)
    assert any(e.startswith("row 6, column other_instrument:") for e in errors)
    assert any(e.startswith("row 7, column instrument:") and "Unknown instrument 'NOPE'" in e for e in errors)
    assert any(e.startswith("row 8, column deadline:") for e in errors)
    assert len(errors) == 6
    # Row 2 was valid but nothing is kept: all or nothing.
    assert not Forecast.objects.exists() and not Source.objects.exists() and not Strategist.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        ("name,quote\nx,y\n", "missing column(s)"),
        (HEADER.strip() + ",extra\n", "unknown column(s) extra"),
        ("", "missing column(s)"),
        (
            HEADER + "A,,P,https://x.example/1,,2025-02-14,q\x00,HSI,reach,1,,,close,,\n",
            "column quote: contains a NUL",
        ),
    ],
)
def test_import_forecasts_rejects_malformed_files(data, message):
    with pytest.raises(ImportFailed) as exc:
        import_forecasts(data)
    assert message in str(exc.value)


def test_score_forecasts_command_as_of_is_a_report(hsi_with_prices, seed_forecast):
    out = run("score_forecasts", "--instrument", "HSI", "--as-of", "2025-02-20")
    assert "pending" in out and "as of 2025-02-20" in out
    assert Forecast.objects.get(pk=seed_forecast.pk).status == "pending"
    out = run("score_forecasts", "--instrument", "HSI")
    assert "1 changed" in out
    assert Forecast.objects.get(pk=seed_forecast.pk).status == "hit"
    with pytest.raises(CommandError, match="expected an ISO date"):
        run("score_forecasts", "--as-of", "20/02/2025")
    with pytest.raises(CommandError, match="unknown instrument"):
        run("score_forecasts", "--instrument", "NOPE")


def test_refresh_prices_command_uses_the_offline_provider(
    hsi, seed_forecast, settings, django_capture_on_commit_callbacks
):
    settings.HINDSIGHT_BACKFILL_DAYS = 10_000
    with django_capture_on_commit_callbacks(execute=True):
        out = run("refresh_prices", "--instrument", "HSI")
    assert "'created': 1268" in out
    assert Forecast.objects.get(pk=seed_forecast.pk).status == "hit"


def test_load_demo_scores_the_seed_forecast_as_a_hit():
    rows = demo_rows()
    out = run("load_demo", "--no-admin")
    assert f"demo forecasts: {rows} created" in out
    ngan = Forecast.objects.get(strategist__slug="alvin-ngan")
    assert (ngan.status, str(ngan.resolved_on), ngan.resolution_price) == ("hit", "2025-02-21", 23477.92)
    assert f"demo forecasts: 0 created, {rows} already there" in run("load_demo", "--no-admin")


def test_an_import_refreshes_the_board_figures_once_per_scope_and_they_agree(monkeypatch):
    """The demo file (85 forecasts) through the importer: the precomputed aggregates are refreshed at the
    end of the import, once per scope, not once per saved forecast, and equal a live computation."""
    from forecasts.services import aggregates

    calls: list[str] = []
    real = aggregates.refresh
    monkeypatch.setattr(aggregates, "refresh", lambda scope, ids: (calls.append(scope), real(scope, ids)))
    run("import_forecasts", str(DEMO))
    assert Forecast.objects.count() == demo_rows()
    assert sorted(calls) == ["firm", "instrument", "strategist"]
    assert aggregates.check() == []
