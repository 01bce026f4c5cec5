"""Provider contract: instrument references, the daily-bar frame format, and provider errors.

Pure module: no Django, no ORM, no network. Every provider returns frames in the shape that
``validate_bars`` enforces, so the service layer can treat all sources alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

BAR_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
SESSION_INDEX_NAME = "session"
# One fixed resolution for session indexes. pandas 3 picks "s" or "us" depending on how an
# index was built (date objects vs strings), and frames with different units do not compare
# equal in tests; "ns" matches exchange-calendars' session indexes.
SESSION_DTYPE = "datetime64[ns]"


# --- errors -----------------------------------------------------------------------------


class ProviderError(Exception):
    """Base class for every provider failure. Not worth retrying unless a subclass says so."""


class ProviderTransientError(ProviderError):
    """Timeouts, connection failures, HTTP 5xx, 429 rate limits: retry later with backoff."""


class ProviderDataError(ProviderError):
    """The provider answered, but the payload is malformed or holds impossible values.

    ``session`` and ``column`` point at the offending cell when one can be named.
    """

    def __init__(self, message: str, *, session: date | None = None, column: str | None = None):
        super().__init__(message)
        self.session = session
        self.column = column


class SymbolNotFound(ProviderError):
    """The provider does not know the symbol (or no longer lists it). Retrying will not help."""


# --- instrument reference and provider protocol ------------------------------------------


@dataclass(frozen=True)
class InstrumentRef:
    """What a provider needs to know about an instrument, detached from the ORM.

    ``symbol`` is our canonical symbol ("HSI", "0700.HK", "GC_F"); ``calendar_code`` is an
    exchange-calendars code ("XHKG", "XNYS", ...); ``timezone`` is the IANA name of the
    exchange ("Asia/Hong_Kong"), used to turn timestamps into session dates.
    ``provider_symbols`` overrides the per-provider default symbol, keyed by provider name
    (e.g. ``{"yahoo": "^HSI"}``); it is stored read-only.
    """

    symbol: str
    calendar_code: str
    timezone: str
    # Excluded from the hash (a mapping is not hashable) but still part of equality.
    provider_symbols: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.symbol or self.symbol != self.symbol.strip():
            raise ValueError(f"InstrumentRef.symbol must be a non-empty trimmed string, got {self.symbol!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"InstrumentRef.timezone {self.timezone!r} is not an IANA time zone") from exc
        # Copy, so later changes to the caller's dict cannot change a frozen ref.
        object.__setattr__(self, "provider_symbols", MappingProxyType(dict(self.provider_symbols)))


def resolve_symbol(ref: InstrumentRef, provider_name: str, defaults: Mapping[str, str]) -> str:
    """The symbol to send to ``provider_name``: explicit override, else default map, else ``ref.symbol``."""
    return ref.provider_symbols.get(provider_name) or defaults.get(ref.symbol, ref.symbol)


@runtime_checkable
class PriceProvider(Protocol):
    """A source of daily bars. Implementations are pure: DataFrames out, no ORM."""

    name: str

    def fetch_daily_bars(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        """Bars for sessions ``start``..``end`` inclusive, in the ``validate_bars`` format.

        Prices are raw quotes of their day (not split- or dividend-adjusted), in the
        instrument's quote currency; volume is in shares/units as the provider reports it.
        A range with no sessions gives an empty frame; an unknown symbol raises ``SymbolNotFound``.
        """
        ...

    def fetch_splits(self, ref: InstrumentRef, start: date, end: date) -> pd.DataFrame:
        """Split events with ex-date in ``start``..``end`` inclusive.

        Index ``ex_date`` (naive ``datetime64[ns]`` dates); column ``ratio`` (float64) is new
        shares per old share: 10.0 for a 10-for-1 split, 0.1 for a 1-for-10 reverse split.
        """
        ...


# --- frame contract -------------------------------------------------------------------


def empty_bars(*, source: str) -> pd.DataFrame:
    """A zero-row frame in the bar format."""
    index = pd.DatetimeIndex([], dtype=SESSION_DTYPE, name=SESSION_INDEX_NAME)
    df = pd.DataFrame({c: pd.Series(dtype="float64", index=index) for c in BAR_COLUMNS}, index=index)
    df.attrs["source"] = source
    return df


def empty_splits(*, source: str) -> pd.DataFrame:
    """A zero-row frame in the split format (index ``ex_date``, column ``ratio``)."""
    index = pd.DatetimeIndex([], dtype=SESSION_DTYPE, name="ex_date")
    df = pd.DataFrame({"ratio": pd.Series(dtype="float64", index=index)}, index=index)
    df.attrs["source"] = source
    return df


def validate_bars(df: pd.DataFrame, *, source: str, symbol: str | None = None) -> pd.DataFrame:
    """Check a bar frame against the contract and return it in canonical form.

    Contract:
      * index: ``DatetimeIndex`` named "session", tz-naive, midnight timestamps (one per
        exchange-local session date), unique; returned sorted and as ``datetime64[ns]``;
      * columns: exactly open, high, low, close, volume, returned as float64 in that order;
      * close: present, finite and > 0; open/high/low: NaN allowed, otherwise finite and > 0;
        volume: NaN allowed, otherwise finite and >= 0;
      * high >= open, close, low and low <= open, close, high, wherever both values are present.

    Fixes only what is safe to fix (column order, row order, float dtype, index unit).
    Anything else raises ``ProviderDataError`` naming the first offending session date and
    column, plus how many other rows fail the same check. ``df.attrs["source"]`` is set to
    ``source``. The input frame is not modified.
    """
    label = f"{source} {symbol}" if symbol else source

    if not isinstance(df, pd.DataFrame):
        raise ProviderDataError(f"{label}: expected a DataFrame, got {type(df).__name__}")
    columns = [str(c) for c in df.columns]
    missing = [c for c in BAR_COLUMNS if c not in columns]
    extra = [c for c in columns if c not in BAR_COLUMNS]
    if missing or extra or len(set(columns)) != len(columns):
        raise ProviderDataError(
            f"{label}: columns must be exactly {list(BAR_COLUMNS)}; missing {missing}, unexpected {extra}"
        )

    index = df.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ProviderDataError(
            f"{label}: index must be a DatetimeIndex of session dates, got {type(index).__name__}"
        )
    if index.tz is not None:
        # Converting to a session date needs the exchange time zone, which only the provider knows.
        raise ProviderDataError(f"{label}: index must be naive session dates, got tz-aware ({index.tz})")
    if index.hasnans:
        raise ProviderDataError(f"{label}: index contains NaT")
    off_midnight = index != index.normalize()
    if off_midnight.any():
        _raise_first(label, index[off_midnight], None, "timestamp is not midnight; expected a session date")
    duplicated = index.duplicated()
    if duplicated.any():
        _raise_first(label, index[duplicated], None, "session appears more than once")

    # Rebuilt from the raw values so no inferred ``freq`` (e.g. BusinessDay) leaks through.
    out = pd.DataFrame(index=pd.DatetimeIndex(index.as_unit("ns").to_numpy(), name=SESSION_INDEX_NAME))
    for column in BAR_COLUMNS:
        values = df[column]
        numeric = pd.to_numeric(values, errors="coerce")
        not_numeric = numeric.isna() & values.notna()
        if not_numeric.any():
            _raise_first(label, index[not_numeric.to_numpy()], column, "is not a number")
        out[column] = numeric.to_numpy(dtype="float64", na_value=np.nan)
    out = out.sort_index()

    _check(label, out, out["close"].isna(), "close", "is missing; close is required")
    for column in ("open", "high", "low", "close"):
        values = out[column]
        _check(label, out, values.notna() & ~np.isfinite(values), column, "is not finite")
        _check(label, out, values.notna() & (values <= 0), column, "must be > 0")
    volume = out["volume"]
    _check(label, out, volume.notna() & ~np.isfinite(volume), "volume", "is not finite")
    _check(label, out, volume.notna() & (volume < 0), "volume", "must be >= 0")

    # NaN comparisons are False, so each check only fires where both values are present.
    for other in ("open", "close", "low"):
        _check(label, out, out["high"] < out[other], "high", f"is below {other}")
    for other in ("open", "close"):
        _check(label, out, out["low"] > out[other], "low", f"is above {other}")

    out.attrs["source"] = source
    return out


def _check(label: str, df: pd.DataFrame, bad: pd.Series, column: str, why: str) -> None:
    if bad.any():
        rows = df.loc[bad.to_numpy()]
        _raise_first(label, rows.index, column, why, value=float(rows[column].iloc[0]))


def _raise_first(label: str, sessions: pd.Index, column: str | None, why: str, value: object = None) -> None:
    first = sessions[0]
    session = first.date() if isinstance(first, pd.Timestamp) else None
    if session is None:
        where = str(first)
    elif first == first.normalize():
        where = f"{first:%Y-%m-%d}"
    else:
        where = f"{first:%Y-%m-%d %H:%M:%S}"
    if column is not None:
        shown = "" if value is None or (isinstance(value, float) and math.isnan(value)) else f" ({value!r})"
        where += f" {column}{shown}"
    more = len(sessions) - 1
    tail = f" (and {more} more row{'s' if more > 1 else ''})" if more else ""
    raise ProviderDataError(f"{label}: {where} {why}{tail}", session=session, column=column)
