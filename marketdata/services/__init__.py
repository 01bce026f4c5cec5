"""Writes for market data, one module a seam.

- `instruments` — instruments from the catalog, and how providers name them;
- `bars` — idempotent bar upserts (COPY on PostgreSQL), splits, the quality gate, held bars;
- `fetching` — the provider chain with fallbacks, refreshes, backfills of the wanted history.

Reads (stored bars as frames, missing sessions) are in `marketdata.selectors`. The names below are the
services' surface (`from marketdata import services; services.upsert_price_bars(...)`).
"""

from marketdata.selectors import bars_frame, instruments_by_symbol, missing_sessions
from marketdata.services.bars import (
    PRICE_FIELDS,
    UpsertResult,
    finished_sessions_only,
    ingest_bars,
    reject_held_bar,
    release_held_bar,
    store_splits,
    upsert_price_bars,
    upsert_splits,
)
from marketdata.services.fetching import (
    FetchResult,
    RefreshResult,
    fetch_with_fallback,
    get_provider,
    history_start,
    prices_backfill,
    prices_refresh,
    provider_chain,
)
from marketdata.services.instruments import get_or_create_instrument, instrument_ref

__all__ = [
    "PRICE_FIELDS",
    "FetchResult",
    "RefreshResult",
    "UpsertResult",
    "bars_frame",
    "fetch_with_fallback",
    "finished_sessions_only",
    "get_or_create_instrument",
    "get_provider",
    "history_start",
    "ingest_bars",
    "instrument_ref",
    "instruments_by_symbol",
    "missing_sessions",
    "prices_backfill",
    "prices_refresh",
    "provider_chain",
    "reject_held_bar",
    "release_held_bar",
    "store_splits",
    "upsert_price_bars",
    "upsert_splits",
]
