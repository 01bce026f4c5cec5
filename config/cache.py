"""A Redis cache that degrades to "no cache" while Redis is down.

Pages and the API must keep serving when Redis stops: a failed read is a miss,
a failed write is skipped, and each failure is logged (throttle counts and page
caches are then per request, which is acceptable for the duration of an outage).

Each call of Django's Redis cache builds a new redis.Redis client around the connection pool, and
that constructor fills a table of some 170 response callbacks: a fifth of a cached page's cost. The
client here is built once per pool and reused (redis-py clients are safe to share between threads;
the pool keeps the connections and notices a fork).
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def _guard(self, name, default, *args, **kwargs):
        try:
            return getattr(super(), name)(*args, **kwargs)
        except _FAILURES as exc:
            log.warning("cache %s failed, Redis unavailable: %s", name, exc)
            return default

    def claim(self, key, timeout, version=None) -> bool | None:
        """add() that tells an outage apart: True (this caller set the key), False (it was set already),
        None (Redis unavailable: the caller must act as if it had the claim)."""
        try:
            return super().add(key, 1, timeout, version)
        except _FAILURES as exc:
            log.warning("cache claim failed, Redis unavailable: %s", exc)
            return None

    def get(self, key, default=None, version=None):
        return self._guard("get", default, key, default, version)

    def set(self, key, value, timeout=None, version=None):
        return self._guard("set", None, key, value, timeout, version)

    def add(self, key, value, timeout=None, version=None):
        return self._guard("add", False, key, value, timeout, version)

    def delete(self, key, version=None):
        return self._guard("delete", False, key, version)

    def get_many(self, keys, version=None):
        return self._guard("get_many", {}, keys, version)

    def set_many(self, data, timeout=None, version=None):
        return self._guard("set_many", [], data, timeout, version)

    def incr(self, key, delta=1, version=None):
        return self._guard("incr", delta, key, delta, version)

    def touch(self, key, timeout=None, version=None):
        return self._guard("touch", False, key, timeout, version)

    def has_key(self, key, version=None):
        return self._guard("has_key", False, key, version)
