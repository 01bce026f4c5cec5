"""The bulk rescoring pipeline and its floor, as plain psycopg + pandas + forecasts.scoring.bulk (no Django,
so it runs in worker processes as it is).

Pipeline: per chunk of instruments, COPY the bars and the forecasts out of PostgreSQL, score each
instrument's forecasts with ``forecasts.scoring.bulk.score_many``, and stream the results through a second
connection's COPY into a temp table; then, in one transaction, append a ForecastEvent for every change
of outcome (INSERT .. SELECT) and write the score fields (one UPDATE .. FROM, compare-and-swap on the
status read). Floor: the same reads and the same writes (the very result rows, replayed from a file),
with no scoring.
"""

from __future__ import annotations

import io
import resource
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg

from forecasts.scoring import Basis, Claim, Kind, Split
from forecasts.scoring.bulk import Other, score_many
from forecasts.scoring.rules import SCORE_COLUMNS, score_columns
from marketdata.calendars import get_calendar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY0 = date(1970, 1, 1)
CHUNK_INSTRUMENTS = 200

# The service's own stored columns and mapping (forecasts.scoring.rules), so the benchmark writes what
# production writes.
# SQL types of the rulebook's stored columns; the temp table follows SCORE_COLUMNS, so it cannot drift.
_SQL_TYPES = {
    "status": "text", "status_note": "text", "awaiting_data": "bool", "resolved_on": "date",
    "resolution_price": "float8", "baseline": "float8", "baseline_date": "date", "window_start": "date",
    "window_end": "date", "window_sessions": "int", "difficulty": "float8", "skill": "float8",
    "window_return": "float8", "benchmark_return": "float8", "scorer_version": "text", "void_reason": "text",
    "voided_on": "date",
}  # fmt: skip
TEMP_DDL = (
    "CREATE TEMP TABLE bench_scores (id int PRIMARY KEY, old_status text, "
    + ", ".join(f"{c} {_SQL_TYPES[c]}" for c in SCORE_COLUMNS)
    + ") ON COMMIT DROP"
)


def _changes(field: str) -> str:
    return (
        f"CASE WHEN f.{field} IS DISTINCT FROM s.{field} THEN jsonb_build_object('{field}', "
        f"jsonb_build_array(to_jsonb(f.{field}), to_jsonb(s.{field}))) ELSE '{{}}'::jsonb END"
    )


OUTCOME = ("status", "resolved_on", "resolution_price", "void_reason")
EVENTS_SQL = (
    "INSERT INTO forecasts_forecastevent (forecast_id, at, action, changes, reason) "
    "SELECT f.id, now(), CASE WHEN f.status IN ('hit', 'miss') THEN 'rescored' ELSE 'scored' END, "
    + " || ".join(_changes(x) for x in OUTCOME)
    + ", s.status_note FROM forecasts_forecast f JOIN bench_scores s ON s.id = f.id "
    "WHERE f.status = s.old_status AND ("
    + " OR ".join(f"f.{x} IS DISTINCT FROM s.{x}" for x in OUTCOME)
    + ")"
)
UPDATE_SQL = (
    "UPDATE forecasts_forecast f SET "
    + ", ".join(f"{c} = s.{c}" for c in SCORE_COLUMNS)
    + ", scored_at = now(), updated_at = now() FROM bench_scores s WHERE f.id = s.id "
    "AND f.status = s.old_status AND ("
    + " OR ".join(f"f.{c} IS DISTINCT FROM s.{c}" for c in SCORE_COLUMNS)
    + ")"
)


# ------------------------------------------------------------------------------------------ reading


def _copy_frame(conn: psycopg.Connection, sql: str, names: Sequence[str], dtypes: dict) -> pd.DataFrame:
    buf = io.BytesIO()
    with conn.cursor().copy(f"COPY ({sql}) TO STDOUT") as copy:
        for block in copy:
            buf.write(block)
    buf.seek(0)
    if not buf.getbuffer().nbytes:
        return pd.DataFrame({n: pd.Series(dtype=dtypes.get(n, "float64")) for n in names})
    return pd.read_csv(
        buf, sep="\t", header=None, names=list(names), dtype=dtypes, na_values=["\\N"], keep_default_na=False
    )


def read_bars(
    conn: psycopg.Connection, ids: Sequence[int], since: dict[int, int] | None = None
) -> pd.DataFrame:
    """instrument_id, day (days since 1970), high, low, close; ordered. ``since``: per instrument,
    the first day wanted (the incremental run reads only what its pending forecasts need)."""
    where = f"instrument_id = ANY('{{{','.join(map(str, ids))}}}'::int[])"
    if since is not None:
        pairs = ",".join(f"({i},{d})" for i, d in since.items())
        where = (
            f"(instrument_id, session) IN (SELECT b.instrument_id, b.session FROM marketdata_pricebar b "
            f"JOIN (VALUES {pairs}) w(i, d) ON b.instrument_id = w.i "
            "AND b.session >= DATE '1970-01-01' + w.d)"
        )
    return _copy_frame(
        conn,
        "SELECT instrument_id, session - DATE '1970-01-01', high, low, close FROM marketdata_pricebar "
        f"WHERE {where} ORDER BY instrument_id, session",
        ("instrument_id", "day", "high", "low", "close"),
        {"instrument_id": "int64", "day": "int64", "high": "float64", "low": "float64", "close": "float64"},
    )


FORECAST_COLUMNS = (
    "id",
    "instrument_id",
    "kind",
    "target",
    "target_upper",
    "basis",
    "made_us",
    "deadline",
    "deadline_none",
    "other_id",
    "status",
)


def read_forecasts(
    conn: psycopg.Connection, ids: Sequence[int], *, pending_only: bool = False
) -> pd.DataFrame:
    where = f"instrument_id = ANY('{{{','.join(map(str, ids))}}}'::int[]) AND kind <> 'manual' AND NOT "
    where += "(status = 'void' AND void_reason LIKE 'Editor:%%')"
    if pending_only:
        where += " AND status = 'pending'"
    return _copy_frame(
        conn,
        "SELECT id, instrument_id, kind, target, target_upper, basis, "
        "(extract(epoch FROM made_at) * 1000000)::bigint, deadline - DATE '1970-01-01', "
        "deadline_source = 'none', other_instrument_id, status "
        f"FROM forecasts_forecast WHERE {where.replace('%%', '%')} ORDER BY instrument_id, id",
        FORECAST_COLUMNS,
        {
            "id": "int64",
            "instrument_id": "int64",
            "kind": "str",
            "basis": "str",
            "made_us": "int64",
            "deadline": "int64",
            "deadline_none": "str",
            "other_id": "float64",
            "status": "str",
        },
    )


def bars_frame(day: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> pd.DataFrame:
    index = pd.DatetimeIndex(day.astype("datetime64[D]").astype("datetime64[ns]"))
    return pd.DataFrame({"high": high, "low": low, "close": close}, index=index, copy=False)


class Market:
    """Instruments, calendars, splits and the benchmark instruments' bars (for outperform)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        rows = conn.execute(
            "SELECT id, calendar_code, trading_ended_on FROM marketdata_instrument ORDER BY id"
        ).fetchall()
        self.ids = [r[0] for r in rows]
        self.calendar = {r[0]: get_calendar(r[1]) for r in rows}
        self.ended = {r[0]: r[2] for r in rows}
        self.splits: dict[int, tuple[Split, ...]] = {}
        for i, ex, ratio in conn.execute(
            "SELECT instrument_id, ex_date, ratio FROM marketdata_split ORDER BY 1, 2"
        ):
            self.splits[i] = (*self.splits.get(i, ()), Split(ex, ratio))
        others = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT other_instrument_id FROM forecasts_forecast "
                "WHERE other_instrument_id IS NOT NULL"
            )
        ]
        self.other: dict[int, Other] = {}
        if others:
            frame = read_bars(conn, others)
            for i, g in frame.groupby("instrument_id"):
                self.other[int(i)] = Other(
                    bars_frame(
                        g["day"].to_numpy(), g["high"].to_numpy(), g["low"].to_numpy(), g["close"].to_numpy()
                    ),
                    self.calendar[int(i)],
                    self.splits.get(int(i), ()),
                )


_KINDS = {k.value: k for k in Kind}
_BASES = {b.value: b for b in Basis}


def claims_of(rows: pd.DataFrame) -> list[Claim]:
    """Claims from forecast rows (as services.claim_for: no deadline when its source is 'none')."""
    kind = rows["kind"].tolist()
    target = rows["target"].tolist()
    upper = rows["target_upper"].tolist()
    basis = rows["basis"].tolist()
    made = rows["made_us"].tolist()
    deadline = rows["deadline"].tolist()
    none = rows["deadline_none"].tolist()
    out = []
    for i in range(len(kind)):
        t, u = target[i], upper[i]
        out.append(
            Claim(
                kind=_KINDS[kind[i]],
                made_at=EPOCH + timedelta(microseconds=made[i]),
                target=None if t != t else t,
                target_upper=None if u != u else u,
                basis=_BASES[basis[i]],
                deadline=None if none[i] == "t" else DAY0 + timedelta(days=deadline[i]),
            )
        )
    return out


# ---------------------------------------------------------------------------------------- writing


def _cell(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return str(value)


def result_line(forecast_id: int, old_status: str, r) -> str:
    """One COPY text line: the rulebook's score_columns(r) (as forecasts.services writes them), with the
    id and the status read. The market benchmark's return is not computed here (it needs the benchmark
    index's bars, which a chunk may not hold): it is written empty."""
    values = score_columns(r, benchmark_return=None)
    return "\t".join(map(_cell, (forecast_id, old_status, *(values[c] for c in SCORE_COLUMNS)))) + "\n"


def finish_writes(writer: psycopg.Connection) -> tuple[int, int]:
    events = writer.execute(EVENTS_SQL).rowcount
    updated = writer.execute(UPDATE_SQL).rowcount
    writer.commit()
    return events, updated


# ------------------------------------------------------------------------------------------ runs


def rescore(
    dsn: str,
    ids: Sequence[int],
    as_of: datetime,
    *,
    mode: str = "bulk",
    replay: str | None = None,
    record: str | None = None,
    pending_only: bool = False,
    since: dict[int, int] | None = None,
) -> dict:
    """Rescore the forecasts on instruments ``ids``. mode "bulk": score with forecasts.scoring.bulk (and write
    the result lines to ``record`` if given); mode "floor": read the same, write the lines of
    ``replay``. Returns timings, counts and the peak RSS of this process."""
    t0 = time.perf_counter()
    timing = {"read_s": 0.0, "score_s": 0.0, "write_s": 0.0}
    counts = {"forecasts": 0, "bars": 0}
    replay_lines = open(replay, encoding="utf-8") if replay else None  # noqa: SIM115
    recorder = open(record, "w", encoding="utf-8") if record else None  # noqa: SIM115
    with psycopg.connect(dsn) as reader, psycopg.connect(dsn) as writer:
        reader.execute("SET TIME ZONE 'UTC'")
        market = Market(reader)
        writer.execute(TEMP_DDL)
        with writer.cursor().copy("COPY bench_scores FROM STDIN") as copy:
            for lo in range(0, len(ids), CHUNK_INSTRUMENTS):
                chunk = list(ids[lo : lo + CHUNK_INSTRUMENTS])
                t = time.perf_counter()
                forecasts = read_forecasts(reader, chunk, pending_only=pending_only)
                wanted = sorted(set(forecasts["instrument_id"].tolist()))
                chunk_since = None if since is None else {i: since[i] for i in wanted if i in since}
                bars = read_bars(reader, wanted, chunk_since) if wanted else read_bars(reader, [-1])
                timing["read_s"] += time.perf_counter() - t
                counts["forecasts"] += len(forecasts)
                counts["bars"] += len(bars)
                if mode == "floor":
                    t = time.perf_counter()
                    for _ in range(len(forecasts)):
                        copy.write(next(replay_lines))
                    timing["write_s"] += time.perf_counter() - t
                    continue
                t = time.perf_counter()
                lines = _score_chunk(market, forecasts, bars, as_of)
                timing["score_s"] += time.perf_counter() - t
                t = time.perf_counter()
                copy.write("".join(lines))
                if recorder:
                    recorder.writelines(lines)
                timing["write_s"] += time.perf_counter() - t
        t = time.perf_counter()
        events, updated = finish_writes(writer)
        timing["write_s"] += time.perf_counter() - t
    if recorder:
        recorder.close()
    if replay_lines:
        replay_lines.close()
    return {
        **timing,
        **counts,
        "events": events,
        "updated": updated,
        "total_s": time.perf_counter() - t0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _score_chunk(market: Market, forecasts: pd.DataFrame, bars: pd.DataFrame, as_of: datetime) -> list[str]:
    lines: list[str] = []
    f_inst = forecasts["instrument_id"].to_numpy()
    b_inst = bars["instrument_id"].to_numpy()
    b_day, b_high = bars["day"].to_numpy(), bars["high"].to_numpy()
    b_low, b_close = bars["low"].to_numpy(), bars["close"].to_numpy()
    ids = forecasts["id"].tolist()
    status = forecasts["status"].tolist()
    other = forecasts["other_id"].to_numpy()
    for inst in np.unique(f_inst).tolist():
        f_lo, f_hi = np.searchsorted(f_inst, [inst, inst + 1])
        b_lo, b_hi = np.searchsorted(b_inst, [inst, inst + 1])
        rows = forecasts.iloc[f_lo:f_hi]
        claims = claims_of(rows)
        others = None
        if not np.isnan(other[f_lo:f_hi]).all():
            others = [None if o != o else market.other[int(o)] for o in other[f_lo:f_hi].tolist()]
        results = score_many(
            claims,
            bars_frame(b_day[b_lo:b_hi], b_high[b_lo:b_hi], b_low[b_lo:b_hi], b_close[b_lo:b_hi]),
            market.calendar[inst],
            as_of=as_of,
            splits=market.splits.get(inst, ()),
            trading_ended_on=market.ended[inst],
            others=others,
        )
        lines.extend(result_line(ids[f_lo + k], status[f_lo + k], r) for k, r in enumerate(results))
    return lines
