"""The data version: one number that changes whenever anything a public page or API read shows changes.

Public pages are the same for every anonymous reader, so they are cached whole under this version
(forecasts.site.pagecache); a write never has to find which pages it touched, it only moves the version
and every page is re-rendered on its next request. The version lives in the shared cache (Redis in
production, local memory in the embedded default) and is the time of the last change in microseconds,
so it doubles as Last-Modified and the ETag without a database query.

Who bumps it, always after commit:
- every save or delete of a model of forecasts or marketdata (admin edits, the recording service,
  editorial actions), through the model signals connected in ForecastsConfig.ready;
- the writers that bypass model signals: the scorer's bulk writes (forecasts.services.scoring), the price
  upsert (through marketdata's bars_changed signal, forecasts.receivers) and queryset updates in
  forecasts.services.editorial.

When the cache cannot answer (Redis down) there is no version: pages are rendered per request and
Last-Modified falls back to a query (forecasts.selectors.pages.last_modified).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

KEY = "hindsight:data-version"


_memo: tuple[float, int] | None = None


def _now_us() -> int:
    return time.time_ns() // 1000


def current() -> int | None:
    """The current version (microseconds since the epoch of the last change), or None if the cache is down."""
    global _memo
    memo = _memo
    now = time.monotonic()
    # Memoised per process for HINDSIGHT_DATA_VERSION_MEMO seconds: a page-cache hit then costs one cache
    # read, not two. A bump in this process clears the memo at once; another process's shows within it.
    if memo is not None and now - memo[0] < settings.HINDSIGHT_DATA_VERSION_MEMO:
        return memo[1]
    version = cache.get(KEY)
    if version is None:
        # First use, or the cache was flushed: start a version now (add: a concurrent start wins).
        cache.add(KEY, _now_us(), timeout=None)
        version = cache.get(KEY)
    if version is None:
        return None
    _memo = (now, int(version))
    return int(version)


def changed_at() -> datetime | None:
    """When the data last changed (the version as a time), or None if the cache is down."""
    version = current()
    return None if version is None else datetime.fromtimestamp(version / 1_000_000, tz=UTC)


def bump_now() -> None:
    """Move the version to now, or one past the current value if the clock says otherwise. Not atomic:
    two processes bumping at once both write a new value, whichever lands last wins, and both values are
    new, which is all the page cache needs (a version is never reused unless clocks step back)."""
    global _memo
    previous = cache.get(KEY) or 0
    cache.set(KEY, max(_now_us(), int(previous) + 1), timeout=None)
    _memo = None


def bump(using: str | None = None) -> None:
    """Bump after the current transaction commits (at once outside one), once per transaction: a rolled-back
    write moves nothing, and an import of a thousand rows moves the version once."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        bump_now()
        return
    if any(func is bump_now for _sids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(bump_now, using=using)


def on_model_change(sender, **kwargs) -> None:
    """post_save / post_delete receiver for the models pages show. Bookkeeping models no page shows
    (locks, fetch logs, scoring checkpoints, held bars) say so with ``shown_on_pages = False``: their
    writes, some of them on every scheduled run, must not empty the page cache."""
    if sender._meta.app_label in ("forecasts", "marketdata") and getattr(sender, "shown_on_pages", True):
        bump(kwargs.get("using"))
