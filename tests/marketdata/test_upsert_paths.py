"""upsert_price_bars has two paths: COPY + INSERT .. ON CONFLICT on PostgreSQL for big batches, the
plain bulk_create path otherwise. The same input through each must give the same UpsertResult, the
same stored bars and the same revisions."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from django.db import IntegrityError, connection

from marketdata.calendars import get_calendar
from marketdata.models import PriceBar, PriceBarRevision
from marketdata.services import bars as services
from tests.factories import InstrumentFactory

pytestmark = pytest.mark.django_db
FIELDS = ("open", "high", "low", "close", "volume")
T0 = datetime(2025, 6, 1, 12, tzinfo=UTC)


def frame(n: int = 900, seed: int = 3) -> pd.DataFrame:
    days = get_calendar("XNYS").sessions[-3000 : -3000 + n]
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return pd.DataFrame(
        {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close, "volume": 1e6},
        index=pd.DatetimeIndex(days, name="session"),
    )


def revised_frame(base: pd.DataFrame) -> pd.DataFrame:
    """Every kind of difference: real revisions, NULLs appearing and vanishing, changes inside the
    tolerance (unchanged), just outside it (revised), new sessions, and an input out of order."""
    new = base.copy()
    new.iloc[10, new.columns.get_loc("close")] *= 1.05  # revised
    new.iloc[11, new.columns.get_loc("volume")] = np.nan  # value -> NULL: revised
    new.iloc[12, new.columns.get_loc("open")] *= 1 + 1e-13  # within rel_tol 1e-12: unchanged
    new.iloc[13, new.columns.get_loc("high")] *= 1 + 1e-10  # outside: revised
    new.iloc[14, new.columns.get_loc("low")] += 5e-10  # within abs_tol... and rel: unchanged
    new.iloc[400, new.columns.get_loc("close")] *= 0.5  # revised
    more = frame(len(base) + 120, seed=9).iloc[len(base) :]  # new sessions after the stored ones
    out = pd.concat([new, more])
    return out.iloc[np.random.default_rng(1).permutation(len(out))]  # not in session order


def stored(instrument) -> tuple[list, list]:
    bars = list(
        PriceBar.objects.filter(instrument=instrument)
        .order_by("session")
        .values_list("session", *FIELDS, "source", "fetched_at")
    )
    revisions = list(
        PriceBarRevision.objects.filter(instrument=instrument)
        .order_by("id")
        .values_list("session", "old_values", "new_values", "old_source", "new_source", "revised_at")
    )
    return bars, revisions


def run(monkeypatch, path: str, steps) -> tuple[list[dict], tuple[list, list]]:
    """Apply `steps` ((frame, source, fetched_at), ...) to a fresh instrument through one path."""
    monkeypatch.setattr(services, "COPY_UPSERT_MIN", 1 if path == "copy" else 10**9)
    calls: list[str] = []
    real_copy, real_plain = services._upsert_copy, services._upsert_plain
    monkeypatch.setattr(services, "_upsert_copy", lambda *a: calls.append("copy") or real_copy(*a))
    monkeypatch.setattr(services, "_upsert_plain", lambda *a: calls.append("plain") or real_plain(*a))
    instrument = InstrumentFactory(symbol=f"PATH-{path}")
    results = [
        asdict(services.upsert_price_bars(instrument, bars, source=source, fetched_at=at))
        for bars, source, at in steps
    ]
    assert set(calls) == {path}
    return results, stored(instrument)


def scenario() -> list:
    base = frame()
    revised = revised_frame(base)
    nulls = base.copy()
    nulls.iloc[11, nulls.columns.get_loc("volume")] = 2e6  # NULL -> value: revised again
    nulls["open"] = nulls["open"].astype(object)
    nulls.iloc[20, nulls.columns.get_loc("open")] = None  # None, not NaN: revised
    return [
        (base, "offline", T0),  # all new
        (base, "other", T0.replace(hour=13)),  # identical: nothing written, source kept
        (revised, "vendor-fix", T0.replace(hour=14)),
        (revised, "vendor-fix", T0.replace(hour=15)),  # a re-import changes nothing
        (nulls.iloc[5:30], "late", T0.replace(hour=16)),
    ]


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")


def test_copy_and_plain_paths_give_identical_results_rows_and_revisions(postgres_only, monkeypatch) -> None:
    steps = scenario()
    plain_results, plain_rows = run(monkeypatch, "plain", steps)
    copy_results, copy_rows = run(monkeypatch, "copy", steps)
    assert copy_results == plain_results
    assert copy_rows == plain_rows
    # and the scenario means something
    assert [r["created"] for r in plain_results] == [900, 0, 120, 0, 0]
    assert plain_results[1]["unchanged"] == 900 and plain_results[3]["unchanged"] == 1020
    assert len(plain_results[2]["revised_sessions"]) == 4 and plain_results[4]["updated"] == 4
    assert len(plain_rows[1]) == 8
    assert {s for *_, s, _ in plain_rows[0]} == {"offline", "vendor-fix", "late"}


def test_big_batches_take_the_copy_path_on_postgresql_only(monkeypatch) -> None:
    calls: list[str] = []
    real_copy, real_plain = services._upsert_copy, services._upsert_plain
    monkeypatch.setattr(services, "_upsert_copy", lambda *a: calls.append("copy") or real_copy(*a))
    monkeypatch.setattr(services, "_upsert_plain", lambda *a: calls.append("plain") or real_plain(*a))
    instrument = InstrumentFactory(symbol="PATH-pick")
    bars = frame(services.COPY_UPSERT_MIN + 10)
    services.upsert_price_bars(instrument, bars.iloc[:10], source="a")
    services.upsert_price_bars(instrument, bars, source="a")
    big = "copy" if connection.vendor == "postgresql" else "plain"
    assert calls == ["plain", big]
    assert PriceBar.objects.filter(instrument=instrument).count() == len(bars)


def test_the_copy_path_twice_in_one_transaction_and_its_errors(postgres_only, monkeypatch) -> None:
    from django.db import transaction

    monkeypatch.setattr(services, "COPY_UPSERT_MIN", 1)
    a, b = InstrumentFactory(symbol="PATH-a"), InstrumentFactory(symbol="PATH-b")
    with transaction.atomic():
        first = services.upsert_price_bars(a, frame(600), source="x")
        second = services.upsert_price_bars(b, frame(300), source="x")  # the temp table is reused
    assert (first.created, second.created) == (600, 300)
    assert PriceBar.objects.filter(instrument=b).count() == 300
    bad = frame(600)
    bad.iloc[50, bad.columns.get_loc("close")] = -1.0  # violates pricebar_close_positive
    with pytest.raises(IntegrityError), transaction.atomic():
        services.upsert_price_bars(a, bad, source="y")
    assert not PriceBar.objects.filter(instrument=a, source="y").exists()


def test_both_paths_read_a_tz_aware_index_as_its_local_dates(postgres_only, monkeypatch) -> None:
    bars = frame(600)
    bars.index = (bars.index + pd.Timedelta(hours=16)).tz_localize("America/New_York")  # 16:00 local
    steps = [(bars, "tz", T0)]
    plain_results, plain_rows = run(monkeypatch, "plain", steps)
    copy_results, copy_rows = run(monkeypatch, "copy", steps)
    assert (copy_results, copy_rows) == (plain_results, plain_rows)
    assert plain_rows[0][0][0] == bars.index[0].date()
