"""Storing price bars: idempotent upserts (a COPY path on PostgreSQL), splits, the quality gate, held bars.

The only place that turns provider DataFrames into rows. Every write is an upsert on a unique key, so
running any of these twice changes nothing.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from marketdata import quality
from marketdata.calendars import get_calendar
from marketdata.models import (
    BarStatus,
    HeldBar,
    Instrument,
    PriceBar,
    PriceBarRevision,
    Split,
)
from marketdata.signals import announce_prices_written

log = logging.getLogger(__name__)


PRICE_FIELDS = ("open", "high", "low", "close", "volume")
UPSERT_BATCH = 2000


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Sessions whose stored values changed (revisions), oldest first.
    revised_sessions: list[date] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    # Bars held for review (spikes), as "session: reason".
    held: list[str] = field(default_factory=list)
    # Earliest session that is new or revised: scoring must look again from here.
    first_changed_session: date | None = None

    @property
    def written(self) -> int:
        return self.created + self.updated


def finished_sessions_only(
    bars: pd.DataFrame, calendar_code: str, *, now: datetime
) -> tuple[pd.DataFrame, list[str]]:
    """Keep bars for sessions of the calendar that have closed by `now`.

    Returns the kept frame and a list of human-readable rejections. Today's
    unfinished bar is never stored as a close, and a bar dated on a holiday or
    weekend is reported rather than stored.
    """
    calendar = get_calendar(calendar_code)
    keep: list[bool] = []
    rejected: list[str] = []
    for ts in bars.index:
        day = ts.date()
        if not calendar.is_session(day):
            rejected.append(f"{day}: not a {calendar_code} session")
            keep.append(False)
        elif calendar.session_close(day) > now:
            rejected.append(f"{day}: session not closed yet")
            keep.append(False)
        else:
            keep.append(True)
    return bars[keep], rejected


def _same(a: float | None, b: float | None) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a is None or b is None or a_missing or b_missing:
        return a_missing and b_missing
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def upsert_price_bars(
    instrument: Instrument,
    bars: pd.DataFrame,
    *,
    source: str,
    fetched_at: datetime | None = None,
) -> UpsertResult:
    """Insert new bars and update changed ones, in one transaction.

    `bars` follows the provider contract (index: session dates; columns open,
    high, low, close, volume). Identical bars are left alone (their source and
    fetch time too), so re-importing a file is a no-op. Bulk writes with
    INSERT .. ON CONFLICT DO UPDATE on (instrument, session): on PostgreSQL, a batch
    of COPY_UPSERT_MIN bars or more goes through COPY into a temp table and one
    INSERT .. SELECT (`_upsert_copy`); smaller batches, and SQLite, take the plain
    path (`_upsert_plain`). Both give the same result, rows and revisions.
    """
    result = UpsertResult()
    if bars.empty:
        return result
    fetched_at = fetched_at or timezone.now()
    index = bars.index
    sessions = list(index.date) if isinstance(index, pd.DatetimeIndex) else [ts.date() for ts in index]
    with transaction.atomic():
        if len(sessions) >= COPY_UPSERT_MIN and connection.vendor == "postgresql":
            revised, first_changed, written = _upsert_copy(instrument, sessions, bars, source, fetched_at)
        else:
            revised, first_changed, written = _upsert_plain(instrument, sessions, bars, source, fetched_at)
        PriceBarRevision.objects.bulk_create(
            [
                PriceBarRevision(
                    instrument=instrument,
                    session=sessions[k],
                    old_values=dict(zip(PRICE_FIELDS, old[:-1], strict=True)),
                    new_values=dict(zip(PRICE_FIELDS, new, strict=True)),
                    old_source=old[-1],
                    new_source=source,
                    revised_at=fetched_at,
                )
                for k, old, new in revised
            ]
        )
        if written:
            announce_prices_written(instrument.pk)
    result.updated = len(revised)
    result.created = written - result.updated
    result.unchanged = len(sessions) - written
    result.revised_sessions = [sessions[k] for k, _, _ in revised]
    result.first_changed_session = first_changed
    if result.revised_sessions:
        log.info(
            "%s: %d bars revised by %s: %s",
            instrument.symbol,
            len(result.revised_sessions),
            source,
            ", ".join(map(str, result.revised_sessions[:10])),
        )
    return result


# What a path wrote: each revised bar as (its position in the input, the old values + old source, the
# new values), in input order; the earliest session written; how many bars were written.
_Written = tuple[list[tuple[int, tuple, tuple]], date | None, int]


def _new_values(bars: pd.DataFrame, k: int) -> tuple:
    return tuple(_clean(bars[f].iloc[k]) for f in PRICE_FIELDS)


def _upsert_plain(
    instrument: Instrument, sessions: list[date], bars: pd.DataFrame, source: str, fetched_at: datetime
) -> _Written:
    """Compare with the stored bars in Python, then bulk_create(update_conflicts) the changed ones."""
    existing = {
        row[0]: row[1:]
        for row in PriceBar.objects.filter(
            instrument=instrument, session__gte=min(sessions), session__lte=max(sessions)
        ).values_list("session", *PRICE_FIELDS, "source")
    }
    columns = [bars[f].tolist() for f in PRICE_FIELDS]
    to_write: list[PriceBar] = []
    revised: list[tuple[int, tuple, tuple]] = []
    changed: list[date] = []
    for k, (day, row) in enumerate(zip(sessions, zip(*columns, strict=True), strict=True)):
        new = tuple(_clean(v) for v in row)
        old = existing.get(day)
        if old is not None and all(_same(o, n) for o, n in zip(old[:-1], new, strict=True)):
            continue
        if old is not None:
            revised.append((k, old, new))
        changed.append(day)
        to_write.append(
            PriceBar(
                instrument=instrument,
                session=day,
                **dict(zip(PRICE_FIELDS, new, strict=True)),
                source=source,
                fetched_at=fetched_at,
            )
        )
    for start in range(0, len(to_write), UPSERT_BATCH):
        PriceBar.objects.bulk_create(
            to_write[start : start + UPSERT_BATCH],
            update_conflicts=True,
            unique_fields=["instrument", "session"],
            update_fields=[*PRICE_FIELDS, "source", "fetched_at"],
        )
    return revised, (min(changed) if changed else None), len(to_write)


# At or above this many bars, PostgreSQL upserts go through COPY (below it, the temp table costs more
# than it saves).
COPY_UPSERT_MIN = 500
_COPY_TABLE = "marketdata_pricebar_incoming"
# COPY BINARY rows: field count, then (length, value) for ord int4, session date, five float8.
_COPY_ROW = np.dtype(
    [("n", ">i2"), ("ord_len", ">i4"), ("ord", ">i4"), ("day_len", ">i4"), ("day", ">i4")]
    + [item for f in PRICE_FIELDS for item in ((f"{f}_len", ">i4"), (f, ">f8"))]
)
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_COPY_TRAILER = b"\xff\xff"
_PG_EPOCH = np.datetime64("2000-01-01", "D")


def _copy_binary(sessions: list[date], bars: pd.DataFrame) -> bytes:
    """The batch as a COPY BINARY stream, built in numpy. Blanks (None / NaN) go as NaN: the
    INSERT reads them back as NULL, as `_clean` makes them."""
    rows = np.empty(len(sessions), dtype=_COPY_ROW)
    rows["n"] = 2 + len(PRICE_FIELDS)
    rows["ord_len"], rows["day_len"] = 4, 4
    rows["ord"] = np.arange(len(sessions))
    index = bars.index
    if isinstance(index, pd.DatetimeIndex):  # its local dates, as Timestamp.date() gives them
        days = (index.tz_localize(None) if index.tz is not None else index).values.astype("datetime64[D]")
    else:
        days = np.array(sessions, dtype="datetime64[D]")
    rows["day"] = (days - _PG_EPOCH).astype(np.int64)
    for f in PRICE_FIELDS:
        rows[f"{f}_len"] = 8
        rows[f] = pd.to_numeric(bars[f], errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def _sql_same(a: str, b: str) -> str:
    """SQL for `_same(a, b)`: both missing (NULL or NaN), or math.isclose(rel 1e-12, abs 1e-9)."""
    missing_a, missing_b = f"({a} IS NULL OR {a} = 'NaN')", f"({b} IS NULL OR {b} = 'NaN')"
    close = (
        f"({a} = {b} OR (abs({a}) < 'Infinity' AND abs({b}) < 'Infinity' AND abs({a} - {b}) <= "
        f"greatest(float8 '1e-12' * greatest(abs({a}), abs({b})), float8 '1e-9')))"
    )
    return f"CASE WHEN {missing_a} OR {missing_b} THEN {missing_a} AND {missing_b} ELSE {close} END"


def _upsert_copy(
    instrument: Instrument, sessions: list[date], bars: pd.DataFrame, source: str, fetched_at: datetime
) -> _Written:
    """COPY the batch into a temp table, then one statement: read the old values of the stored bars
    (same snapshot), INSERT .. ON CONFLICT DO UPDATE .. WHERE the values differ (as `_same` decides)
    .. RETURNING; the caller writes the revisions. Same semantics as `_upsert_plain`."""
    table = connection.ops.quote_name(PriceBar._meta.db_table)
    fields = ", ".join(PRICE_FIELDS)
    incoming = ", ".join(f"NULLIF({f}, 'NaN')" for f in PRICE_FIELDS)
    differs = " OR ".join(f"NOT ({_sql_same(f'{table}.{f}', f'EXCLUDED.{f}')})" for f in PRICE_FIELDS)
    sql = (
        f"WITH old AS (SELECT t.ord, p.session, {', '.join(f'p.{f}' for f in PRICE_FIELDS)}, p.source "
        f"FROM {_COPY_TABLE} t JOIN {table} p ON p.instrument_id = %s AND p.session = t.session), "
        f"up AS (INSERT INTO {table} (instrument_id, session, {fields}, source, fetched_at) "
        f"SELECT %s, session, {incoming}, %s, %s "
        f"FROM {_COPY_TABLE} ON CONFLICT (instrument_id, session) DO UPDATE SET "
        + ", ".join(f"{f} = EXCLUDED.{f}" for f in (*PRICE_FIELDS, "source", "fetched_at"))
        + f" WHERE {differs} RETURNING session), "
        "stats AS (SELECT count(*) AS n, min(session) AS first FROM up) "
        f"SELECT s.n, s.first, r.ord, {', '.join(f'r.{f}' for f in PRICE_FIELDS)}, r.source "
        "FROM stats s LEFT JOIN (SELECT old.* FROM up JOIN old USING (session)) r ON TRUE ORDER BY r.ord"
    )
    data = _copy_binary(sessions, bars)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        # Kept for the connection, emptied at each commit (and here, for a second batch in one
        # transaction).
        raw.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_COPY_TABLE} (ord int, session date, open float8, "
            "high float8, low float8, close float8, volume float8) ON COMMIT DELETE ROWS; "
            f"TRUNCATE {_COPY_TABLE}"
        )
        with raw.copy(f"COPY {_COPY_TABLE} (ord, session, {fields}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(data)
        raw.execute(sql, (instrument.pk, instrument.pk, source, fetched_at))
        rows = raw.fetchall()
    written, first = rows[0][0], rows[0][1]
    revised = [(row[2], tuple(row[3:]), _new_values(bars, row[2])) for row in rows if row[2] is not None]
    return revised, first, written


def upsert_splits(instrument: Instrument, splits: pd.DataFrame, *, source: str) -> int:
    """Store split events (index ex_date, column ratio). Returns how many are new or changed."""
    return len(store_splits(instrument, splits, source=source))


def store_splits(instrument: Instrument, splits: pd.DataFrame, *, source: str) -> list[date]:
    """Store split events; the ex-dates that are new or whose ratio changed (they need rescoring)."""
    changed: list[date] = []
    existing = dict(Split.objects.filter(instrument=instrument).values_list("ex_date", "ratio"))
    for ts, ratio in splits["ratio"].items() if not splits.empty else []:
        day = cast(pd.Timestamp, ts).date()  # the index is the ex-dates
        if day in existing and _same(existing[day], float(ratio)):
            continue
        Split.objects.update_or_create(
            instrument=instrument, ex_date=day, defaults={"ratio": float(ratio), "source": source}
        )
        changed.append(day)
    return sorted(changed)


# --- the quality gate ------------------------------------------------------------------------


def _history_before(instrument: Instrument, first: date, count: int) -> pd.Series:
    rows = list(
        PriceBar.objects.filter(instrument=instrument, session__lt=first)
        .order_by("-session")
        .values_list("session", "close")[:count]
    )
    rows.reverse()
    return pd.Series([c for _, c in rows], index=pd.DatetimeIndex([pd.Timestamp(d) for d, _ in rows]))


def ingest_bars(
    instrument: Instrument,
    bars: pd.DataFrame,
    *,
    source: str,
    now: datetime | None = None,
    fetched_at: datetime | None = None,
    spike_check: bool = True,
) -> UpsertResult:
    """Pass incoming bars through the quality gate and store what passes.

    Bars failing a hard check are recorded as REJECTED HeldBars (with the reason) and bars
    moving implausibly far as HELD ones; neither reaches PriceBar, so neither can score
    anything. A bar identical to one stored, or to one an admin already rejected, is not
    checked or recorded again. ``spike_check=False`` for files an operator supplies (the
    operator is the reviewer; the admin upload preview shows the moves it would hold).
    """
    now = now or timezone.now()
    fetched_at = fetched_at or now
    if bars.empty:
        return UpsertResult()
    calendar = get_calendar(instrument.calendar_code)
    sessions = [ts.date() for ts in bars.index]
    stored = {
        row[0]: row[1:]
        for row in PriceBar.objects.filter(
            instrument=instrument, session__gte=min(sessions), session__lte=max(sessions)
        ).values_list("session", *PRICE_FIELDS)
    }
    decided = {
        (h.session, tuple(getattr(h, f) for f in PRICE_FIELDS)): h
        for h in HeldBar.objects.filter(
            instrument=instrument, session__gte=min(sessions), session__lte=max(sessions)
        )
    }
    trusted, skip = set(), []
    for day, row in zip(sessions, bars.itertuples(index=False), strict=True):
        values = tuple(_clean(getattr(row, f)) for f in PRICE_FIELDS)
        if day in stored and all(_same(o, n) for o, n in zip(stored[day], values, strict=True)):
            trusted.add(day)
        elif any(
            key[0] == day
            and held.status in (BarStatus.REJECTED, BarStatus.HELD)
            and all(_same(o, n) for o, n in zip(key[1], values, strict=True))
            for key, held in decided.items()
        ):
            skip.append(day)  # already held or rejected with these very values
    if skip:
        bars = bars[[ts.date() not in set(skip) for ts in bars.index]]
    max_sigmas = settings.HINDSIGHT_SPIKE_SIGMAS if spike_check else 0.0
    report = quality.check_bars(
        bars,
        calendar=calendar,
        now=now,
        history=_history_before(instrument, min(sessions), settings.HINDSIGHT_SPIKE_LOOKBACK + 1),
        splits=list(Split.objects.filter(instrument=instrument).values_list("ex_date", "ratio")),
        trusted=trusted,
        max_sigmas=max_sigmas,
        lookback=settings.HINDSIGHT_SPIKE_LOOKBACK,
    )
    with transaction.atomic():
        result = upsert_price_bars(instrument, report.accepted, source=source, fetched_at=fetched_at)
        # A newer value for a session under review supersedes the held one.
        incoming = [ts.date() for ts in bars.index]
        HeldBar.objects.filter(instrument=instrument, status=BarStatus.HELD, session__in=incoming).update(
            status=BarStatus.REJECTED, decided_at=now, decision_note="Superseded by a later fetch."
        )
        HeldBar.objects.bulk_create(
            [
                HeldBar(
                    instrument=instrument,
                    session=flag.session,
                    **{f: flag.values.get(f) for f in PRICE_FIELDS},
                    source=source,
                    fetched_at=fetched_at,
                    status=status,
                    reason=flag.reason[:300],
                    z_score=flag.z_score,
                    decided_at=None if status == BarStatus.HELD else now,
                    decision_note="" if status == BarStatus.HELD else "Failed the quality checks.",
                )
                for status, flags in ((BarStatus.HELD, report.held), (BarStatus.REJECTED, report.rejected))
                for flag in flags
                if not flag.premature
            ]
        )
    result.held = [f.describe() for f in report.held]
    result.rejected = [f.describe() for f in report.rejected]
    for line in result.held:
        log.warning("%s: bar held for review: %s", instrument.symbol, line)
    return result


@transaction.atomic
def release_held_bar(held: HeldBar, *, actor=None, note: str = "") -> UpsertResult:
    """An admin vouches for a held bar: store it (a revision if the session had a bar)."""
    held = HeldBar.objects.select_for_update().get(pk=held.pk)
    if held.status != BarStatus.HELD:
        return UpsertResult()
    frame = pd.DataFrame(
        {f: [getattr(held, f)] for f in PRICE_FIELDS},
        index=pd.DatetimeIndex([pd.Timestamp(held.session)], name="session"),
        dtype="float64",
    )
    result = upsert_price_bars(held.instrument, frame, source=held.source, fetched_at=timezone.now())
    held.status, held.decided_by, held.decided_at = BarStatus.RELEASED, actor, timezone.now()
    held.decision_note = note[:300]
    held.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return result


@transaction.atomic
def reject_held_bar(held: HeldBar, *, actor=None, note: str = "") -> bool:
    """An admin rejects a held bar: it never scores anything (compare-and-swap on HELD)."""
    return bool(
        HeldBar.objects.filter(pk=held.pk, status=BarStatus.HELD).update(
            status=BarStatus.REJECTED, decided_by=actor, decided_at=timezone.now(), decision_note=note[:300]
        )
    )
