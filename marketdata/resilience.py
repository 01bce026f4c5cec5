"""Calling vendors without trusting them: time-outs, retries, a shared rate limit, a circuit breaker.

``guarded_call(provider_name, fn)`` wraps every provider call the service makes:

1. the circuit breaker for that provider must be closed (or let this call through as its one
   half-open probe), else ``CircuitOpen`` is raised at once and the vendor is not called;
2. a token from the provider's rate limit (pyrate-limiter; a Redis bucket shared by every process
   when REDIS_URL is set, an in-process bucket otherwise), waiting at most the call's time-out;
3. the call itself, in a worker thread abandoned after HINDSIGHT_PROVIDER_TIMEOUT seconds (akshare's
   own HTTP calls have no time-out at all);
4. retries with exponential backoff on ``ProviderTransientError`` only (time-outs, 5xx, 429, network),
   up to HINDSIGHT_PROVIDER_ATTEMPTS attempts. ``SymbolNotFound`` and data errors are not retried.

The breaker counts consecutive failed calls (transient or malformed data; an unknown symbol is the
vendor answering properly and does not count) in the Django cache, which is Redis when REDIS_URL is
set, so every worker sees the same state. After HINDSIGHT_BREAKER_THRESHOLD failures it opens for
HINDSIGHT_BREAKER_COOLDOWN seconds; then one probe call is let through: success closes it, failure
opens it again.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from marketdata.providers.base import ProviderDataError, ProviderError, ProviderTransientError

log = logging.getLogger(__name__)
T = TypeVar("T")
_KEY = "hindsight:breaker:{}:{}"


class CircuitOpen(ProviderTransientError):
    """The provider's circuit breaker is open: it failed repeatedly and is left alone for a while."""


class RateLimitTimeout(ProviderTransientError):
    """No rate-limit token came within the call's time-out."""


# --- circuit breaker ---------------------------------------------------------------------------


class CircuitBreaker:
    """Consecutive-failure breaker with its state in the Django cache (shared via Redis)."""

    def __init__(self, name: str, *, threshold: int | None = None, cooldown: int | None = None):
        self.name = name
        self.threshold = threshold or settings.HINDSIGHT_BREAKER_THRESHOLD
        self.cooldown = cooldown or settings.HINDSIGHT_BREAKER_COOLDOWN

    def _k(self, part: str) -> str:
        return _KEY.format(self.name, part)

    def state(self, now: float | None = None) -> str:
        """ "closed", "open" or "half-open" (cool-down over; the next call is a probe)."""
        opened_until = cache.get(self._k("open_until"))
        if opened_until is None:
            return "closed"
        return "open" if (now or time.time()) < opened_until else "half-open"

    def failures(self) -> int:
        return int(cache.get(self._k("failures")) or 0)

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one caller (across processes) gets True."""
        state = self.state()
        if state == "closed":
            return True
        if state == "open":
            return False
        return cache.add(self._k("probe"), 1, timeout=max(60, int(settings.HINDSIGHT_PROVIDER_TIMEOUT) * 4))

    def record_success(self) -> None:
        cache.delete_many([self._k("failures"), self._k("open_until"), self._k("probe")])

    def record_failure(self) -> None:
        key = self._k("failures")
        cache.add(key, 0, timeout=self.cooldown * 4)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=self.cooldown * 4)
            count = 1
        was_probing = cache.get(self._k("open_until")) is not None
        if count >= self.threshold or was_probing:
            cache.set(self._k("open_until"), time.time() + self.cooldown, timeout=self.cooldown * 4)
            cache.delete(self._k("probe"))
            log.warning("circuit for %s open for %ds after %d failures", self.name, self.cooldown, count)

    def reset(self) -> None:
        self.record_success()


# --- rate limit ------------------------------------------------------------------------------


@functools.cache
def _limiter(name: str, per_minute: int, redis_url: str):
    from pyrate_limiter import Duration, InMemoryBucket, Limiter, Rate, RedisBucket

    rates = [Rate(per_minute, Duration.MINUTE)]
    if redis_url:
        import redis

        bucket = RedisBucket.init(rates, redis.Redis.from_url(redis_url), f"hindsight:ratelimit:{name}")
    else:
        bucket = InMemoryBucket(rates)
    return Limiter(bucket)


def acquire_rate_limit(name: str, *, timeout: float) -> None:
    """Wait (at most ``timeout`` s) for a token of ``name``'s limit; providers without a rate pass."""
    per_minute = settings.HINDSIGHT_PROVIDER_RATES.get(name)
    if not per_minute:
        return
    limiter = _limiter(name, int(per_minute), settings.REDIS_URL or "")
    if not limiter.try_acquire(name, blocking=True, timeout=max(timeout, 0.01)):
        raise RateLimitTimeout(f"{name}: rate limit of {per_minute}/min still full after {timeout:g}s")


# --- time-out --------------------------------------------------------------------------------


def call_with_timeout(fn: Callable[[], T], *, timeout: float, label: str) -> T:
    """Run ``fn`` in a daemon thread; give up after ``timeout`` seconds with a transient error.

    The abandoned thread finishes (or hangs) on its own; it holds no database connection because
    providers never touch the ORM.
    """
    result: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"provider-call-{label}", daemon=True).start()
    if not done.wait(timeout):
        raise ProviderTransientError(f"{label}: no answer within {timeout:g}s")
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]  # type: ignore[return-value]


# --- together --------------------------------------------------------------------------------


def guarded_call(
    name: str,
    fn: Callable[[], T],
    *,
    timeout: float | None = None,
    attempts: int | None = None,
    backoff: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn`` (one provider request) with the breaker, rate limit, time-out and retries."""
    timeout = settings.HINDSIGHT_PROVIDER_TIMEOUT if timeout is None else timeout
    attempts = settings.HINDSIGHT_PROVIDER_ATTEMPTS if attempts is None else attempts
    backoff = settings.HINDSIGHT_PROVIDER_BACKOFF if backoff is None else backoff
    breaker = CircuitBreaker(name)
    if not breaker.allow():
        raise CircuitOpen(f"{name}: circuit open after repeated failures; not calling it")
    for attempt in range(1, max(1, attempts) + 1):
        try:
            acquire_rate_limit(name, timeout=timeout)
            value = call_with_timeout(fn, timeout=timeout, label=name)
        except ProviderTransientError as exc:
            if attempt >= attempts:
                breaker.record_failure()
                raise
            delay = backoff * 2 ** (attempt - 1)
            log.info("%s: transient error (%s); retry %d in %.1fs", name, exc, attempt, delay)
            sleep(delay)
            continue
        except ProviderDataError:
            breaker.record_failure()
            raise
        except ProviderError:
            breaker.record_success()  # the vendor answered (e.g. unknown symbol)
            raise
        except Exception:
            breaker.record_failure()  # a bug or an unclassified failure of the vendor library
            raise
        breaker.record_success()
        return value
    raise AssertionError("unreachable")  # pragma: no cover
