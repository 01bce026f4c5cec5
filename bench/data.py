"""Synthetic data, generated inside PostgreSQL (random walks by window functions; nothing large passes
through Python). Deterministic for a given scale (setseed)."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import psycopg

from marketdata.calendars import get_calendar


@dataclass(frozen=True)
class Scale:
    name: str
    instruments: int
    sessions: int
    forecasts: int
    strategists: int
    firms: int
    sources: int
    orm_sample_instruments: int
    web_seconds: float


SCALES = {
    "small": Scale("small", 50, 2500, 10_000, 200, 20, 1_000, 2, 6.0),
    "full": Scale("full", 5_000, 2500, 1_000_000, 20_000, 1_000, 100_000, 3, 10.0),
}
#: Instrument i's calendar: mostly NYSE, some HKEX (half days, lunch), some crypto (24/7).
CAL_CYCLE = ["XNYS"] * 17 + ["XHKG"] * 2 + ["24/7"]
TZ = {"XNYS": "America/New_York", "XHKG": "Asia/Hong_Kong", "24/7": "UTC"}
#: Benchmark instruments for outperform: the first few, whose bars every worker keeps.
BENCHMARKS = 5


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def dsn_from_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _defaults(conn: psycopg.Connection, table: str, given: dict[str, str]) -> dict[str, str]:
    """``given`` plus a neutral value for every other NOT NULL column without a default, so the bench
    keeps working while other engineers add columns."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
        (table,),
    ).fetchall()
    neutral = {"boolean": "false", "jsonb": "'{}'::jsonb", "date": "current_date"}
    out = dict(given)
    for name, dtype in rows:
        if name in out:
            continue
        if dtype.startswith("timestamp"):
            out[name] = "now()"
        elif dtype in ("integer", "bigint", "smallint", "double precision", "numeric", "real"):
            out[name] = "0"
        else:
            out[name] = neutral.get(dtype, "''")
    return out


def _insert(conn: psycopg.Connection, table: str, given: dict[str, str], from_sql: str) -> int:
    cols = _defaults(conn, table, given)
    sql = f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols.values())} {from_sql}"
    return conn.execute(sql).rowcount


def sessions_table(conn: psycopg.Connection, sessions: int, now: datetime) -> None:
    """bench_sessions(code, n, session, close_at): per calendar the last ``sessions + 1`` sessions closed
    by ``now``; n = 0 .. sessions. Session n = sessions (the newest) is withheld until the incremental
    benchmark ("one new bar per instrument")."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_sessions (code text, n int, session date, close_at timestamptz, "
        "PRIMARY KEY (code, n))"
    )
    conn.execute("TRUNCATE bench_sessions")
    buf = io.StringIO()
    for code in TZ:
        cal = get_calendar(code)
        last = cal.last_session_closed_at_or_before(now)
        days = cal.sessions[: int(np.searchsorted(cal.sessions, np.datetime64(last, "D"), "right"))]
        days = days[-(sessions + 1) :]
        for n, d in enumerate(days.astype(object).tolist()):
            buf.write(f"{code}\t{n}\t{d.isoformat()}\t{cal.session_close(d).isoformat()}\n")
    with conn.cursor().copy("COPY bench_sessions FROM STDIN") as copy:
        copy.write(buf.getvalue())


def generate(url: str, scale: Scale, now: datetime) -> dict[str, float]:
    """Fill an empty (migrated) database. Returns timings."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with psycopg.connect(dsn_from_url(url), autocommit=True) as conn:
        conn.execute("SELECT setseed(0.42)")
        sessions_table(conn, scale.sessions, now)
        cal_case = " ".join(
            f"WHEN (g - 1) % {len(CAL_CYCLE)} = {i} THEN '{code}'" for i, code in enumerate(CAL_CYCLE)
        )
        _insert(
            conn,
            "marketdata_instrument",
            {
                "symbol": "'B' || lpad(g::text, 5, '0')",
                "name": "'Bench instrument ' || g",
                "asset_class": "'equity'",
                "calendar_code": f"CASE {cal_case} END",
                "currency": "'USD'",
                "provider_symbols": "'{}'::jsonb",
                "created_at": "now()",
                "updated_at": "now()",
            },
            f"FROM generate_series(1, {scale.instruments}) g",
        )
        # One instrument in 50 stopped trading a year ago (voids what it leaves undecided).
        conn.execute(
            "UPDATE marketdata_instrument i SET trading_ended_on = s.session FROM bench_sessions s "
            f"WHERE i.id % 50 = 7 AND s.code = i.calendar_code AND s.n = {scale.sessions - 250}"
        )
        ids = [r[0] for r in conn.execute("SELECT id FROM marketdata_instrument ORDER BY id")]
        t = time.perf_counter()
        step = 250
        for lo in range(0, len(ids), step):
            chunk = ids[lo : lo + step]
            # log-normal random walk, 1.5% daily; Box-Muller normals; 0.05% of sessions have no bar
            _insert(
                conn,
                "marketdata_pricebar",
                {
                    "instrument_id": "id",
                    "session": "session",
                    "open": "c",
                    "high": "c * (1 + abs(h))",
                    "low": "c * (1 - abs(l))",
                    "close": "c",
                    "volume": "1000",
                    "source": "'bench'",
                    "fetched_at": "now()",
                },
                f"""FROM (
                    SELECT i.id, s.session,
                        round((20 + (i.id % 200)) * exp(sum(0.015 * sqrt(-2 * ln(1 - random()))
                            * cos(2 * pi() * random())) OVER (PARTITION BY i.id ORDER BY s.n))::numeric,
                            2)::float8 AS c,
                        0.01 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS h,
                        0.01 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS l
                    FROM marketdata_instrument i JOIN bench_sessions s ON s.code = i.calendar_code
                    WHERE i.id = ANY(ARRAY{chunk}::int[]) AND s.n < {scale.sessions}
                ) x WHERE random() >= 0.0005""",
            )
        timings["generate_bars_s"] = time.perf_counter() - t
        # a few splits (one instrument in 100), 2-for-1, mid-history
        conn.execute(
            "INSERT INTO marketdata_split (instrument_id, ex_date, ratio, source) "
            "SELECT i.id, s.session, 2.0, 'bench' FROM marketdata_instrument i JOIN bench_sessions s "
            f"ON s.code = i.calendar_code AND s.n = {scale.sessions // 2} WHERE i.id % 100 = 3"
        )
        conn.execute(
            "UPDATE marketdata_pricebar b SET open = open * 2, high = high * 2, low = low * 2, "
            "close = close * 2 FROM marketdata_split s WHERE s.instrument_id = b.instrument_id "
            "AND b.session < s.ex_date"
        )
        _insert(
            conn,
            "forecasts_firm",
            {"name": "'Firm ' || g", "slug": "'firm-' || g", "website": "''"},
            f"FROM generate_series(1, {scale.firms}) g",
        )
        firm0 = conn.execute("SELECT min(id) FROM forecasts_firm").fetchone()[0]
        _insert(
            conn,
            "forecasts_strategist",
            {
                "name": "'Strategist ' || g",
                "slug": "'strategist-' || g",
                "firm_id": f"{firm0} + g % {scale.firms}",
                "title": "''",
            },
            f"FROM generate_series(1, {scale.strategists}) g",
        )
        _insert(
            conn,
            "forecasts_source",
            {
                "publication": "'Bench Daily'",
                "url": "'https://bench.example/a/' || g",
                "title": "'Article ' || g",
                "published_at": "now()",
                "published_date_only": "false",
                "language": "'en'",
                "article_text": "''",
                "text_sha256": "''",
                "created_at": "now()",
            },
            f"FROM generate_series(1, {scale.sources}) g",
        )
        t = time.perf_counter()
        strat0 = conn.execute("SELECT min(id) FROM forecasts_strategist").fetchone()[0]
        source0 = conn.execute("SELECT min(id) FROM forecasts_source").fetchone()[0]
        inst0 = ids[0]
        # Skeleton: who, what, when (session n >= 300 so there is history for sigma), how.
        conn.execute(
            f"""CREATE TEMP TABLE bench_skeleton AS
            SELECT g, {strat0} + (random() * {scale.strategists - 1})::int AS strategist_id,
                {source0} + (random() * {scale.sources - 1})::int AS source_id,
                {inst0} + (random() * {len(ids) - 1})::int AS instrument_id,
                {inst0} + (random() * {BENCHMARKS - 1})::int AS other_id,
                random() AS k, random() AS f, random() AS when_, random() AS dl,
                300 + (random() * {scale.sessions - 301})::int AS n
            FROM generate_series(1, {scale.forecasts}) g"""
        )
        conn.execute("UPDATE bench_skeleton SET other_id = other_id + 1 WHERE other_id = instrument_id")
        kind = (
            "CASE WHEN k < 0.30 THEN 'reach' WHEN k < 0.40 THEN 'move_pct' WHEN k < 0.50 THEN 'close_above' "
            "WHEN k < 0.60 THEN 'close_below' WHEN k < 0.70 THEN 'range' WHEN k < 0.80 THEN 'direction_up' "
            "WHEN k < 0.98 THEN 'direction_down' WHEN k < 0.99 THEN 'outperform' ELSE 'manual' END"
        )
        _insert(
            conn,
            "forecasts_forecast",
            {
                "strategist_id": "strategist_id",
                "firm_id": "st.firm_id",
                "source_id": "source_id",
                "quote": "'Bench quote ' || g",
                "instrument_id": "sk.instrument_id",
                "kind": "kind",
                "target": "CASE WHEN kind IN ('reach', 'close_above', 'close_below', 'range') "
                "THEN round((b.close * (0.8 + 0.45 * f))::numeric, 2)::float8 "
                "WHEN kind = 'move_pct' THEN (ARRAY[-20, -10, -5, 5, 10, 15, 20])[1 + floor(f * 7)::int] END",
                "target_upper": "CASE WHEN kind = 'range' THEN "
                "round((b.close * (0.8 + 0.45 * f) * 1.15)::numeric, 2)::float8 END",
                "other_instrument_id": "CASE WHEN kind = 'outperform' THEN other_id END",
                "basis": "CASE WHEN f < 0.3 THEN 'intraday' ELSE 'close' END",
                "made_at": "made_at",
                "deadline": "CASE WHEN dl < 0.5 THEN ((made_at - interval '1 microsecond') "
                "AT TIME ZONE tz)::date + interval '12 months' "
                "ELSE (made_at AT TIME ZONE tz)::date + (20 + (dl * 700)::int) END",
                "deadline_source": "CASE WHEN dl < 0.5 THEN 'none' ELSE 'stated' END",
                "status": "'pending'",
                "status_note": "''",
                "awaiting_data": "false",
                "scorer_version": "''",
                "void_reason": "''",
                "published_at": "made_at",
                "created_at": "now()",
                "updated_at": "now()",
            },
            f"""FROM (
                SELECT sk.*, {kind} AS kind, st.firm_id AS st_firm, tzs.tz,
                    CASE WHEN when_ < 0.6 THEN s.close_at + (when_ * interval '5 hours')
                         WHEN when_ < 0.9 THEN (s.session + 1)::timestamp AT TIME ZONE tzs.tz
                         ELSE s.close_at - interval '150 minutes' END AS made_at,
                    s.session
                FROM bench_skeleton sk
                JOIN marketdata_instrument i ON i.id = sk.instrument_id
                JOIN (VALUES {", ".join(f"('{c}', '{z}')" for c, z in TZ.items())}) tzs(code, tz)
                    ON tzs.code = i.calendar_code
                JOIN bench_sessions s ON s.code = i.calendar_code AND s.n = sk.n
                JOIN forecasts_strategist st ON st.id = sk.strategist_id
            ) sk
            JOIN forecasts_strategist st ON st.id = sk.strategist_id
            LEFT JOIN marketdata_pricebar b ON b.instrument_id = sk.instrument_id AND b.session = sk.session
            WHERE b.close IS NOT NULL OR sk.kind NOT IN ('reach', 'close_above', 'close_below', 'range')""",
        )
        timings["generate_forecasts_s"] = time.perf_counter() - t
        conn.execute("ANALYZE")
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "marketdata_instrument",
                "marketdata_pricebar",
                "forecasts_forecast",
                "forecasts_strategist",
            )
        }
    timings["generate_total_s"] = time.perf_counter() - t0
    log(f"generated {counts} in {timings['generate_total_s']:.1f}s")
    return {**timings, **{f"rows_{k}": v for k, v in counts.items()}}


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
