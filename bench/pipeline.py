"""The bulk rescoring pipeline and its floor, as plain psycopg + pandas + forecasts.scoring.bulk (no Django,
so it runs in worker processes as it is).

Pipeline: per chunk of instruments, COPY the bars and the forecasts out of PostgreSQL, score each
instrument's forecasts with ``forecasts.scoring.bulk.score_many``, and stream the results through a second
connection's COPY into a temp table; per chunk, on that connection's own thread (ChunkWriter) while the
next chunk is read and scored, append a ForecastEvent for every change of outcome (INSERT .. SELECT) and
write the score fields (UPDATE .. FROM, compare-and-swap on the status read), all in one transaction.
Floor: the same reads and the same writes (the very result rows, replayed from a file), with no scoring.
"""

from __future__ import annotations

import io
import queue
import resource
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg

from forecasts.scoring import SCORER_VERSION, Basis, Claim, Kind, Split
from forecasts.scoring.bulk import Other, score_many
from forecasts.scoring.incremental import may_change
from forecasts.scoring.rules import (
    HISTORY_SCAN,
    MISSING_BARS_VOID,
    SCORE_COLUMNS,
    benchmark_return,
    score_columns,
    wants_benchmark,
)
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
    conn: psycopg.Connection, ids: Sequence[int], *, pending_only: bool = False, where: str | None = None
) -> pd.DataFrame:
    """The claims (and status read) of the forecasts on instruments ``ids``, or of those ``where`` picks."""
    if where is not None:
        where = f"{where} AND kind <> 'manual'"
    else:
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
    """Instruments, calendars, splits, instrument B's bars (outperform) and the market benchmarks' bars
    (``benchmarks``: calendar code -> instrument id, as settings.HINDSIGHT_BENCHMARKS resolves)."""

    def __init__(self, conn: psycopg.Connection, benchmarks: dict[str, int] | None = None) -> None:
        rows = conn.execute(
            "SELECT id, calendar_code, trading_ended_on FROM marketdata_instrument ORDER BY id"
        ).fetchall()
        self.ids = [r[0] for r in rows]
        self.calendar = {r[0]: get_calendar(r[1]) for r in rows}
        self.code = {r[0]: r[1] for r in rows}
        self.ended = {r[0]: r[2] for r in rows}
        self.benchmark_of = dict(benchmarks or {})
        self.benchmark: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        wanted = sorted(set(self.benchmark_of.values()))
        if wanted:
            frame = read_bars(conn, wanted)
            for i, g in frame.groupby("instrument_id"):
                closes = g["close"].to_numpy(dtype=float)
                keep = ~np.isnan(closes)
                days = g["day"].to_numpy()[keep].astype("datetime64[D]")
                self.benchmark[int(i)] = (days, closes[keep])
        self.splits: dict[int, tuple[Split, ...]] = {}
        for i, ex, ratio in conn.execute(
            "SELECT instrument_id, ex_date, ratio FROM marketdata_split ORDER BY 1, 2"
        ):
            self.splits[i] = (*self.splits.get(i, ()), Split(ex, ratio))
        self._conn = conn
        self.other: dict[int, Other] = {}

    def other_of(self, i: int) -> Other:
        """Instrument B's bars (an outperform's), read the first time one is needed."""
        if i not in self.other:
            g = read_bars(self._conn, [i])
            self.other[i] = Other(
                bars_frame(
                    g["day"].to_numpy(), g["high"].to_numpy(), g["low"].to_numpy(), g["close"].to_numpy()
                ),
                self.calendar[i],
                self.splits.get(i, ()),
            )
        return self.other[i]


_KINDS = {k.value: k for k in Kind}
_DIRECTIONAL = frozenset({Kind.DIRECTION_UP.value, Kind.DIRECTION_DOWN.value})
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


def result_line(forecast_id: int, old_status: str, r, benchmark: float | None = None) -> str:
    """One COPY text line: the rulebook's score_columns(r) (as forecasts.services writes them), with the
    id and the status read; ``benchmark``: the market benchmark's return (rules.benchmark_return)."""
    values = score_columns(r, benchmark_return=benchmark)
    return "\t".join(map(_cell, (forecast_id, old_status, *(values[c] for c in SCORE_COLUMNS)))) + "\n"


def apply_scores(conn: psycopg.Connection) -> tuple[int, int]:
    """From the temp table: a ForecastEvent per change of outcome, then the score columns; (events, rows)."""
    return conn.execute(EVENTS_SQL).rowcount, conn.execute(UPDATE_SQL).rowcount


def finish_writes(writer: psycopg.Connection, *, rollback: bool = False) -> tuple[int, int]:
    """The events and the UPDATE, committed (``rollback``: measured, then undone, for a same-run baseline)."""
    events, updated = apply_scores(writer)
    if rollback:
        writer.rollback()
    else:
        writer.commit()
    return events, updated


class ChunkWriter:
    """Writes the result lines chunk by chunk on its own connection and thread, while the caller reads
    and scores the next chunk: per chunk, COPY into the temp table and apply_scores (the events and the
    UPDATE), in one transaction committed (or rolled back) by finish(). The database
    works on chunk k while Python scores chunk k+1 (on 2 cores the two overlap; psycopg waits on the
    server without the GIL). `put` blocks when two chunks are waiting, so memory stays bounded. The floor
    writes through it too, so the ratio compares like with like."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.events = self.updated = 0
        self.error: BaseException | None = None
        self.queue: queue.Queue[str | None] = queue.Queue(maxsize=2)
        conn.execute(TEMP_DDL)
        self.thread = threading.Thread(target=self._run, name="chunk-writer", daemon=True)
        self.thread.start()

    def put(self, lines: str) -> None:
        if self.error is not None:
            raise RuntimeError("the chunk writer failed") from self.error
        if lines:
            self.queue.put(lines)

    def _run(self) -> None:
        while (lines := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain: the caller sees the error at its next put or at finish
            try:
                self.conn.execute("TRUNCATE bench_scores")
                with self.conn.cursor().copy("COPY bench_scores FROM STDIN") as copy:
                    copy.write(lines)
                self.conn.execute("ANALYZE bench_scores")
                events, updated = apply_scores(self.conn)
                self.events += events
                self.updated += updated
            except BaseException as exc:  # handed to the caller
                self.error = exc

    def finish(self, *, rollback: bool = False) -> tuple[int, int]:
        """Wait for the chunks sent, then commit (``rollback``: undo, for a same-run baseline)."""
        self.queue.put(None)
        self.thread.join()
        if self.error is not None or rollback:
            self.conn.rollback()
            if self.error is not None:
                raise RuntimeError("the chunk writer failed") from self.error
        else:
            self.conn.commit()
        return self.events, self.updated


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
    benchmarks: dict[str, int] | None = None,
    rollback: bool = False,
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
        market = Market(reader, benchmarks)
        chunks = ChunkWriter(writer)
        try:
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
                    chunks.put("".join(next(replay_lines) for _ in range(len(forecasts))))
                    timing["write_s"] += time.perf_counter() - t
                    continue
                t = time.perf_counter()
                lines = _score_chunk(market, forecasts, bars, as_of)
                timing["score_s"] += time.perf_counter() - t
                t = time.perf_counter()
                chunks.put("".join(lines))
                if recorder:
                    recorder.writelines(lines)
                timing["write_s"] += time.perf_counter() - t
        except BaseException:
            with suppress(RuntimeError):
                chunks.finish(rollback=True)
            raise
        t = time.perf_counter()
        events, updated = chunks.finish(rollback=rollback)
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
    kinds = forecasts["kind"].tolist()
    other = forecasts["other_id"].to_numpy()
    for inst in np.unique(f_inst).tolist():
        f_lo, f_hi = np.searchsorted(f_inst, [inst, inst + 1])
        b_lo, b_hi = np.searchsorted(b_inst, [inst, inst + 1])
        rows = forecasts.iloc[f_lo:f_hi]
        claims = claims_of(rows)
        others = None
        if not np.isnan(other[f_lo:f_hi]).all():
            others = [None if o != o else market.other_of(int(o)) for o in other[f_lo:f_hi].tolist()]
        results = score_many(
            claims,
            bars_frame(b_day[b_lo:b_hi], b_high[b_lo:b_hi], b_low[b_lo:b_hi], b_close[b_lo:b_hi]),
            market.calendar[inst],
            as_of=as_of,
            splits=market.splits.get(inst, ()),
            trading_ended_on=market.ended[inst],
            others=others,
        )
        bench = market.benchmark.get(market.benchmark_of.get(market.code[inst], -1))
        for k, r in enumerate(results):
            value = None
            if bench is not None and kinds[f_lo + k] in _DIRECTIONAL and wants_benchmark(kinds[f_lo + k], r):
                value = benchmark_return(bench[0], bench[1], r.baseline_date, r.last_session)
            lines.append(result_line(ids[f_lo + k], status[f_lo + k], r, value))
    return lines


# ------------------------------------------------------------------------------ the nightly rescore

PENDING_COLUMNS = (
    "id",
    "instrument_id",
    "kind",
    "basis",
    "target",
    "baseline",
    "baseline_day",
    "window_start",
    "window_end",
    "awaiting_data",
    "fresh",
)
CHECKPOINT_SQL = (
    "INSERT INTO forecasts_scoringcheckpoint (instrument_id, complete_through, checked_at) "
    "SELECT * FROM unnest(%s::int[], %s::date[], %s::timestamptz[]) ON CONFLICT (instrument_id) DO UPDATE "
    "SET complete_through = EXCLUDED.complete_through, checked_at = EXCLUDED.checked_at"
)


def _read_pending(conn: psycopg.Connection, ids: Sequence[int]) -> pd.DataFrame:
    """The stored scores of the pending forecasts (what forecasts.scoring.incremental looks at)."""
    return _copy_frame(
        conn,
        "SELECT id, instrument_id, kind, basis, target, baseline, baseline_date - DATE '1970-01-01', "
        "window_start - DATE '1970-01-01', window_end - DATE '1970-01-01', awaiting_data, "
        f"scored_at IS NULL OR scorer_version <> '{SCORER_VERSION}' FROM forecasts_forecast "
        f"WHERE instrument_id = ANY('{{{','.join(map(str, ids))}}}'::int[]) AND status = 'pending' "
        "AND kind <> 'manual' ORDER BY instrument_id, id",
        PENDING_COLUMNS,
        {"id": "int64", "instrument_id": "int64", "kind": "str", "basis": "str", "awaiting_data": "str"}
        | {"fresh": "str", "baseline_day": "float64", "window_start": "float64", "window_end": "float64"},
    )


def read_bars_ranges(conn: psycopg.Connection, start: dict[int, int | None]) -> pd.DataFrame:
    """Per instrument, its bars from HISTORY_SCAN bar rows (the volatility scan) before the given
    baseline day on (all of them for None): one range read per instrument (a LATERAL index range scan)."""
    ids = sorted(start)
    days = [None if start[i] is None else (DAY0 + timedelta(days=int(start[i]))).isoformat() for i in ids]
    sql = (
        "SELECT w.i, b.session - DATE '1970-01-01', b.high, b.low, b.close "
        f"FROM unnest('{{{','.join(map(str, ids))}}}'::int[], "
        f"'{{{','.join('NULL' if d is None else d for d in days)}}}'::date[]) w(i, d) "
        "CROSS JOIN LATERAL (SELECT coalesce((SELECT p.session FROM marketdata_pricebar p "
        "WHERE p.instrument_id = w.i AND p.session <= w.d ORDER BY p.session DESC "
        f"OFFSET {HISTORY_SCAN - 1} LIMIT 1), DATE '-infinity') AS lo) r "
        "JOIN marketdata_pricebar b ON b.instrument_id = w.i AND b.session >= r.lo ORDER BY 1, 2"
    )
    return _copy_frame(
        conn,
        sql,
        ("instrument_id", "day", "high", "low", "close"),
        {"instrument_id": "int64", "day": "int64", "high": "float64", "low": "float64", "close": "float64"},
    )


def rescore_incremental(
    dsn: str,
    ids: Sequence[int],
    as_of: datetime,
    *,
    benchmarks: dict[str, int] | None = None,
    checked_at: datetime | None = None,
    rollback: bool = False,
) -> dict:
    """The nightly rescore as forecasts.services.forecasts_rescore_incremental does it, in bulk: per chunk
    of instruments, read the checkpoints, the pending forecasts' stored scores and the bars of the sessions
    completed since (one or two rows an instrument); choose with forecasts.scoring.incremental.may_change;
    read the chosen forecasts and, per instrument, the bars from their earliest baseline's volatility
    history on; score, write what changed, move the checkpoints. Instruments the checkpoint cannot vouch
    for (none yet, late bars, stopped trading) get every pending forecast rescored."""
    t0 = time.perf_counter()
    checked_at = checked_at or datetime.now(UTC)
    timing = {"setup_s": 0.0, "read_s": 0.0, "select_s": 0.0, "score_s": 0.0, "write_s": 0.0}
    counts = {"pending": 0, "forecasts": 0, "bars": 0, "full_instruments": 0}
    with psycopg.connect(dsn) as reader, psycopg.connect(dsn) as writer:
        reader.execute("SET TIME ZONE 'UTC'")
        market = Market(reader, benchmarks)  # calendars built here in a fresh process (a worker keeps them)
        timing["setup_s"] = time.perf_counter() - t0
        writer.execute(TEMP_DDL)
        cp_ids: list[int] = []
        cp_days: list[date] = []
        with writer.cursor().copy("COPY bench_scores FROM STDIN") as copy:
            for lo in range(0, len(ids), INCREMENTAL_CHUNK):
                chunk = list(ids[lo : lo + INCREMENTAL_CHUNK])
                t = time.perf_counter()
                through = {i: market.calendar[i].last_session_closed_at_or_before(as_of) for i in chunk}
                array = f"'{{{','.join(map(str, chunk))}}}'::int[]"
                checkpoints = {
                    i: (d, at)
                    for i, d, at in reader.execute(
                        "SELECT instrument_id, complete_through, checked_at FROM forecasts_scoringcheckpoint "
                        f"WHERE instrument_id = ANY({array})"
                    )
                }
                # Bars fetched since a checkpoint, for sessions it had already vouched for. A literal
                # lower bound (the chunk's oldest checkpoint, so every plan sees it) lets PostgreSQL
                # range-scan the fetched_at index over the few new bars: per checkpoint alone it scanned
                # every bar of the chunk's instruments (2.5 M rows, ~0.8 s a chunk at full scale; ~15 ms).
                oldest = min((at for _d, at in checkpoints.values()), default=None)
                late = (
                    set()
                    if oldest is None
                    else {
                        r[0]
                        for r in reader.execute(
                            "SELECT DISTINCT b.instrument_id FROM marketdata_pricebar b JOIN "
                            "forecasts_scoringcheckpoint c ON c.instrument_id = b.instrument_id "
                            f"WHERE b.fetched_at > '{oldest.isoformat()}'::timestamptz "
                            f"AND b.instrument_id = ANY({array}) "
                            "AND b.fetched_at > c.checked_at AND b.session <= c.complete_through"
                        )
                    }
                )
                full = {
                    i
                    for i in chunk
                    if i not in checkpoints
                    or through[i] is None
                    or market.ended[i] is not None
                    or checkpoints[i][0] > through[i]
                    or i in late
                }
                pending = _read_pending(reader, chunk)
                new = _copy_frame(
                    reader,
                    "SELECT b.instrument_id, b.session - DATE '1970-01-01', b.high, b.low, b.close "
                    "FROM forecasts_scoringcheckpoint c JOIN marketdata_pricebar b ON "
                    f"b.instrument_id = c.instrument_id AND b.session > c.complete_through "
                    f"WHERE c.instrument_id = ANY({array}) ORDER BY 1, 2",
                    ("instrument_id", "day", "high", "low", "close"),
                    {"instrument_id": "int64", "day": "int64"},
                )
                timing["read_s"] += time.perf_counter() - t
                t = time.perf_counter()
                chosen, start = _choose(market, pending, new, full, checkpoints, through)
                counts["pending"] += len(pending)
                counts["full_instruments"] += len(full & set(pending["instrument_id"].tolist()))
                timing["select_s"] += time.perf_counter() - t
                for i in chunk:
                    if through[i] is not None:
                        cp_ids.append(i)
                        cp_days.append(through[i])
                if not chosen and not full:
                    continue
                t = time.perf_counter()
                where = f"id = ANY('{{{','.join(map(str, chosen))}}}'::int[])"
                if full:
                    # as the service's full path: every pending forecast, and the automatic voids for
                    # missing bars (late bars may decide them)
                    where = (
                        f"({where} OR (instrument_id = ANY('{{{','.join(map(str, sorted(full)))}}}'::int[]) "
                        f"AND (status = 'pending' OR (status = 'void' AND void_reason LIKE "
                        f"'{MISSING_BARS_VOID}%%'))))"
                    )
                forecasts = read_forecasts(reader, [], where=where)
                for i in full:
                    start[i] = None
                bars = read_bars_ranges(
                    reader, {i: start[i] for i in set(forecasts["instrument_id"].tolist())}
                )
                timing["read_s"] += time.perf_counter() - t
                counts["forecasts"] += len(forecasts)
                counts["bars"] += len(bars)
                t = time.perf_counter()
                lines = _score_chunk(market, forecasts, bars, as_of)
                timing["score_s"] += time.perf_counter() - t
                t = time.perf_counter()
                copy.write("".join(lines))
                timing["write_s"] += time.perf_counter() - t
        t = time.perf_counter()
        if cp_ids:
            writer.execute(CHECKPOINT_SQL, (cp_ids, cp_days, [checked_at] * len(cp_ids)))
        events, updated = finish_writes(writer, rollback=rollback)
        timing["write_s"] += time.perf_counter() - t
    return {
        **timing,
        **counts,
        "events": events,
        "updated": updated,
        "total_s": time.perf_counter() - t0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


INCREMENTAL_CHUNK = 1000


def _choose(
    market: Market,
    pending: pd.DataFrame,
    new: pd.DataFrame,
    full: set[int],
    checkpoints: dict,
    through: dict,
) -> tuple[list[int], dict[int, int | None]]:
    """The pending forecasts may_change picks, and per instrument the earliest baseline day they need."""
    chosen: list[int] = []
    start: dict[int, int | None] = {}
    p_inst = pending["instrument_id"].to_numpy()
    n_inst = new["instrument_id"].to_numpy()
    nat = np.datetime64("NaT", "D")

    def days(values: np.ndarray) -> np.ndarray:
        out = np.full(len(values), nat)
        ok = ~np.isnan(values)
        out[ok] = values[ok].astype("int64").astype("datetime64[D]")
        return out

    # Every column as a numpy array once (per-instrument DataFrame slicing was most of the selection: ~70k
    # pandas column lookups a night at full scale); days as datetime64 once too.
    col = {
        "id": pending["id"].to_numpy(),
        "kind": pending["kind"].to_numpy(dtype=object),
        "basis": pending["basis"].to_numpy(dtype=object),
        "target": pending["target"].to_numpy(dtype=float),
        "baseline": pending["baseline"].to_numpy(dtype=float),
        "baseline_day": days(pending["baseline_day"].to_numpy(dtype=float)),
        "window_start": days(pending["window_start"].to_numpy(dtype=float)),
        "window_end": days(pending["window_end"].to_numpy(dtype=float)),
        "awaiting": pending["awaiting_data"].to_numpy() == "t",
        "fresh": pending["fresh"].to_numpy() == "t",
    }
    new_day = new["day"].to_numpy().astype("datetime64[D]")
    new_bar = {name: new[name].to_numpy(dtype=float) for name in ("close", "high", "low")}

    for inst in np.unique(p_inst).tolist():
        if inst in full:
            continue
        lo, hi = np.searchsorted(p_inst, [inst, inst + 1])
        cp = np.datetime64(checkpoints[inst][0], "D")
        last = np.datetime64(through[inst], "D")
        sessions = market.calendar[inst].sessions_array(checkpoints[inst][0], through[inst])
        sessions = sessions[sessions > cp]
        b_lo, b_hi = np.searchsorted(n_inst, [inst, inst + 1])
        bar_days = new_day[b_lo:b_hi]
        at = np.searchsorted(bar_days, sessions)
        found = at < len(bar_days)
        found[found] = bar_days[at[found]] == sessions[found]
        at = np.where(found, at, 0)

        aligned = {}
        for name, values in new_bar.items():
            values = values[b_lo:b_hi]
            aligned[name] = np.where(found, values[at] if len(values) else np.nan, np.nan)

        baseline_day = col["baseline_day"][lo:hi]
        splits = market.splits.get(inst, ())
        known = baseline_day[~np.isnat(baseline_day)]
        split_after = bool(len(known)) and any(np.datetime64(s.ex_date, "D") > known.min() for s in splits)
        pick = may_change(
            kind=col["kind"][lo:hi],
            basis=col["basis"][lo:hi],
            target=col["target"][lo:hi],
            baseline=col["baseline"][lo:hi],
            window_start=col["window_start"][lo:hi],
            window_end=col["window_end"][lo:hi],
            awaiting=col["awaiting"][lo:hi],
            fresh=col["fresh"][lo:hi],
            through=last,
            new_days=sessions,
            new_close=aligned["close"],
            new_high=aligned["high"],
            new_low=aligned["low"],
            split_after=split_after,
            since=cp,
            calendar_days=market.calendar[inst].sessions,
        )
        if not pick.any():
            continue
        chosen.extend(col["id"][lo:hi][pick].tolist())
        picked = baseline_day[pick]
        start[inst] = None if np.isnat(picked).any() else int(picked.min().astype("int64"))
    return chosen, start
