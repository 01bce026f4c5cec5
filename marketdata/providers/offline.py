"""Offline provider over the bundled CSV files, and the strict CSV reader they share.

CSV format (see marketdata/data/SOURCES.md): header ``date,open,high,low,close,volume``;
ISO dates; a blank field means "no value". Only ``date`` and ``close`` are required.
"""

from __future__ import annotations

import _csv  # the type of csv.reader()
import csv
import io
import math
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from .base import (
    BAR_COLUMNS,
    SESSION_INDEX_NAME,
    InstrumentRef,
    ProviderDataError,
    SymbolNotFound,
    empty_splits,
    validate_bars,
)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A symbol becomes a file name, so keep it to characters that cannot leave data_dir.
_SAFE_SYMBOL = re.compile(r"[A-Za-z0-9^=_-][A-Za-z0-9.^=_-]*")


def read_price_csv(
    path_or_file: str | os.PathLike[str] | IO[str] | IO[bytes], *, source: str = "csv"
) -> pd.DataFrame:
    """Parse a price CSV strictly into a bar frame (see ``validate_bars`` for the format).

    The header must name ``date`` and ``close``; ``open``, ``high``, ``low`` and ``volume``
    are optional and any of their fields may be blank (NaN). Header names are matched
    case-insensitively after trimming; unknown or repeated columns are rejected so that an
    "adj close" column is never silently ignored. Dates must be ``YYYY-MM-DD``; numbers
    are plain decimals (no thousands separators, no "nan"/"inf"). Blank lines are skipped.
    A UTF-8 BOM is accepted; file objects may be text or binary (decoded as UTF-8).

    Raises ``ProviderDataError`` naming the line number and column of the first bad field,
    or the session date and column for contract violations (e.g. high below close,
    duplicate dates). Rows are returned sorted by date.
    """
    try:
        text = _read_text(path_or_file)
    except UnicodeDecodeError as exc:
        raise ProviderDataError(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    try:
        return _parse_price_rows(csv.reader(io.StringIO(text, newline="")), source=source)
    except csv.Error as exc:
        raise ProviderDataError(f"{source}: malformed CSV: {exc}") from exc


def _parse_price_rows(reader: _csv.Reader, *, source: str) -> pd.DataFrame:
    header = next(reader, None)
    if header is None:
        raise ProviderDataError(f"{source}: file is empty; expected a header with date and close")
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in ("date", *BAR_COLUMNS)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if unknown or repeated:
        raise ProviderDataError(f"{source}: line 1: unknown columns {unknown}, repeated columns {repeated}")
    if "date" not in names or "close" not in names:
        raise ProviderDataError(f"{source}: line 1: header must contain 'date' and 'close', got {names}")

    sessions: list[date] = []
    values: dict[str, list[float]] = {c: [] for c in BAR_COLUMNS}
    for row in reader:
        line = reader.line_num
        if not any(field.strip() for field in row):
            continue
        if len(row) != len(names):
            raise ProviderDataError(f"{source}: line {line}: expected {len(names)} fields, got {len(row)}")
        fields = dict(zip(names, (f.strip() for f in row), strict=True))
        sessions.append(_parse_date(fields["date"], source=source, line=line))
        for column in BAR_COLUMNS:
            values[column].append(
                _parse_number(fields.get(column, ""), source=source, line=line, column=column)
            )

    index = pd.DatetimeIndex(sessions, name=SESSION_INDEX_NAME).as_unit("ns")
    df = pd.DataFrame({c: np.asarray(v, dtype="float64") for c, v in values.items()}, index=index)
    return validate_bars(df, source=source)


def _read_text(path_or_file: str | os.PathLike[str] | IO[str] | IO[bytes]) -> str:
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, encoding="utf-8-sig", newline="") as fh:
            return fh.read()
    content = path_or_file.read()
    if isinstance(content, bytes):
        content = content.decode("utf-8-sig")
    return content.removeprefix("\ufeff")


def _parse_date(raw: str, *, source: str, line: int) -> date:
    # date.fromisoformat alone would also accept "20250221" and week dates on Python 3.11.
    if _ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise ProviderDataError(f"{source}: line {line}: date {raw!r} is not a YYYY-MM-DD date", column="date")


def _parse_number(raw: str, *, source: str, line: int, column: str) -> float:
    if raw == "":
        return math.nan
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    else:
        if math.isfinite(value):
            return value
    raise ProviderDataError(f"{source}: line {line}: {column} {raw!r} is not a finite number", column=column)


#: Corporate actions for the files of a data folder: ``symbol,ex_date,ratio,basis``. ``basis`` says how
#: the price file next to it treats the split: ``adjusted_in_file`` (rows before ex_date are divided by
#: the ratio, as Yahoo's adjusted history is: they are multiplied back to raw quotes when read) or
#: ``raw_in_file`` (already raw; only the event is reported).
CORPORATE_ACTIONS_FILE = "corporate_actions.csv"
SPLIT_BASES = ("adjusted_in_file", "raw_in_file")


@dataclass(frozen=True)
class SplitAction:
    symbol: str
    ex_date: date
    ratio: float
    basis: str


def read_corporate_actions(path: str | os.PathLike[str]) -> list[SplitAction]:
    """Parse a corporate actions file strictly; a missing file means no actions."""
    path = Path(path)
    if not path.is_file():
        return []
    actions: list[SplitAction] = []
    reader = csv.DictReader(io.StringIO(_read_text(path)))
    expected = ["symbol", "ex_date", "ratio", "basis"]
    if [h.strip().lower() for h in reader.fieldnames or []] != expected:
        raise ProviderDataError(f"{path.name}: line 1: header must be {','.join(expected)}")
    for row in reader:
        line = reader.line_num
        fields = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not any(fields.values()):
            continue
        ex_date = _parse_date(fields["ex_date"], source=path.name, line=line)
        ratio = _parse_number(fields["ratio"], source=path.name, line=line, column="ratio")
        if not ratio > 0:
            raise ProviderDataError(f"{path.name}: line {line}: ratio must be > 0", column="ratio")
        if fields["basis"] not in SPLIT_BASES:
            raise ProviderDataError(
                f"{path.name}: line {line}: basis {fields['basis']!r} is not one of {SPLIT_BASES}",
                column="basis",
            )
        if not fields["symbol"]:
            raise ProviderDataError(f"{path.name}: line {line}: symbol is empty", column="symbol")
        actions.append(SplitAction(fields["symbol"], ex_date, ratio, fields["basis"]))
    return actions


def unadjust_for_splits(bars: pd.DataFrame, actions: list[SplitAction]) -> pd.DataFrame:
    """Turn split-adjusted rows back into raw quotes: rows before each ``adjusted_in_file`` split's
    ex-date have prices multiplied and volume divided by its ratio (rounded to 8 decimals / whole
    shares, so 47.569 x 10 is 475.69, not 475.69000000000005)."""
    out = bars.copy()
    for action in actions:
        if action.basis != "adjusted_in_file":
            continue
        before = out.index < pd.Timestamp(action.ex_date)
        for column in ("open", "high", "low", "close"):
            out.loc[before, column] = (out.loc[before, column] * action.ratio).round(8)
        out.loc[before, "volume"] = (out.loc[before, "volume"] / action.ratio).round(0)
    out.attrs = dict(bars.attrs)
    return out


def splits_frame(actions: list[SplitAction], *, source: str) -> pd.DataFrame:
    """Split events in the provider format (index ex_date, column ratio)."""
    if not actions:
        return empty_splits(source=source)
    index = pd.DatetimeIndex([pd.Timestamp(a.ex_date) for a in actions], name="ex_date").as_unit("ns")
    out = pd.DataFrame({"ratio": [float(a.ratio) for a in actions]}, index=index).sort_index()
    out.attrs["source"] = source
    return out


def read_raw_price_file(
    path: str | os.PathLike[str], *, symbol: str | None = None, source: str = "csv"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A price file as RAW bars plus its split events, using the corporate actions file in the
    same folder (if any) for ``symbol`` (default: the file name without .csv)."""
    path = Path(path)
    symbol = symbol or path.stem
    actions = [a for a in read_corporate_actions(path.parent / CORPORATE_ACTIONS_FILE) if a.symbol == symbol]
    bars = unadjust_for_splits(read_price_csv(path, source=source), actions)
    return bars, splits_frame(actions, source=source)


class OfflineCSVProvider:
    """Serves bars from ``<data_dir>/<symbol>.csv`` files; for tests, demos and backfills.

    The file name is ``ref.provider_symbols["offline"]`` if set, else ``ref.symbol``.
    Files are read on every call (they are small: ~1,300 rows parse in milliseconds).
    Prices are served RAW: a file that ``corporate_actions.csv`` marks as split-adjusted
    (NVDA.csv) is un-adjusted on reading, and its splits are served by ``fetch_splits``.
    """

    name = "offline"

    def __init__(self, data_dir: str | os.PathLike[str] | None = None):
        self.data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR

    def available_symbols(self) -> list[str]:
        """File stems of every price ``*.csv`` in ``data_dir``, sorted."""
        return sorted(
            p.stem for p in self.data_dir.glob("*.csv") if p.is_file() and p.name != CORPORATE_ACTIONS_FILE
        )

    def fetch_daily_bars(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        """Raw bars for sessions ``start``..``end`` inclusive (empty frame if none in range)."""
        path = self._path_for(ref)
        bars = read_price_csv(path, source=f"{self.name} {path.name}")
        bars = unadjust_for_splits(bars, self._actions(path))
        window = bars.loc[pd.Timestamp(start) : pd.Timestamp(end)].copy()
        window.attrs["source"] = self.name
        return window

    def fetch_splits(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        """Splits from ``corporate_actions.csv`` with ex-date in range. Unknown symbols still raise."""
        path = self._path_for(ref)
        actions = [a for a in self._actions(path) if start <= a.ex_date <= end]
        return splits_frame(actions, source=self.name)

    def _actions(self, path: Path) -> list[SplitAction]:
        actions = read_corporate_actions(self.data_dir / CORPORATE_ACTIONS_FILE)
        return [a for a in actions if a.symbol == path.stem]

    def _path_for(self, ref: InstrumentRef) -> Path:
        candidates = _unique([ref.provider_symbols.get(self.name, ""), ref.symbol])
        for symbol in candidates:
            if _SAFE_SYMBOL.fullmatch(symbol) and ".." not in symbol and symbol != "corporate_actions":
                path = self.data_dir / f"{symbol}.csv"
                if path.is_file():
                    return path
        raise SymbolNotFound(
            f"{self.name}: no CSV for {ref.symbol!r} in {self.data_dir} (tried {candidates})"
        )


def _unique(symbols: list[str]) -> list[str]:
    return [s for i, s in enumerate(symbols) if s and s not in symbols[:i]]
