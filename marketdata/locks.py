"""A lock so the same job never runs twice at once.

With REDIS_URL: a redis-py ``Lock`` (atomic SET NX PX, released only by its owner's token) held as a
short *lease*: a heartbeat thread in the holder renews it every ``lease / 3`` seconds while the job
works, so a holder that dies (SIGKILL, out of memory, a lost host) stops renewing and its lock is gone
``lease`` seconds later, not after the longest a job may run (issue 16: a refresh killed mid-upsert kept
its lock for 15 minutes, and its redelivery was skipped). The token names the holder (host, pid) for
the logs. Renewal stops after ``timeout`` seconds, the longest any holder may keep it.

Without Redis (the embedded default, tasks run in-process, nothing is redelivered): a TaskLock row,
whose unique key is the lock, valid for ``timeout``; an expired row is taken over with a
compare-and-swap update, so a crashed process cannot block the job forever.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketdata.models import TaskLock

log = logging.getLogger(__name__)

LEASE_SECONDS = 30


def holder_token() -> str:
    """Who holds a lock: ``host:pid:random`` (unique per acquisition, readable in Redis and the logs)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"


@contextlib.contextmanager
def job_lock(key: str, *, timeout: int = 900, lease: int = LEASE_SECONDS) -> Iterator[bool]:
    """``with job_lock("refresh:42") as acquired:`` — ``acquired`` is False if another holder has it.

    Never blocks. With Redis, a holder that dies keeps the lock at most ``lease`` seconds (it is renewed
    while the holder lives, for at most ``timeout`` seconds); without Redis, ``timeout`` bounds it.
    """
    if settings.REDIS_URL:
        with _redis_lock(key, timeout=timeout, lease=min(lease, timeout)) as acquired:
            yield acquired
        return
    token = secrets.token_hex(16)
    acquired = _db_acquire(key, token, timeout)
    try:
        yield acquired
    finally:
        if acquired:
            TaskLock.objects.filter(key=key, token=token).delete()


@contextlib.contextmanager
def _redis_lock(key: str, *, timeout: int, lease: int) -> Iterator[bool]:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    # thread_local=False: the heartbeat thread must see the token the holder's thread acquired with.
    lock = client.lock(f"hindsight:lock:{key}", timeout=lease, blocking=False, thread_local=False)
    acquired = bool(lock.acquire(blocking=False, token=holder_token()))
    if not acquired:
        log.info("lock %s is held by %s", key, _holder(client, lock.name))
        yield False
        return
    stop = threading.Event()
    heartbeat = threading.Thread(
        target=_renew, args=(lock, key, lease, timeout, stop), name=f"lock-heartbeat:{key}", daemon=True
    )
    heartbeat.start()
    try:
        yield True
    finally:
        stop.set()
        heartbeat.join(timeout=5)
        with contextlib.suppress(redis.exceptions.LockError, redis.exceptions.RedisError):
            lock.release()


def _renew(lock, key: str, lease: int, timeout: int, stop: threading.Event) -> None:
    """Reset the lease every lease/3 s until the holder is done, has held it ``timeout`` s, or lost it."""
    import redis

    until = time.monotonic() + timeout
    while not stop.wait(lease / 3):
        if time.monotonic() >= until:
            log.warning("lock %s held for over %ss; no longer renewed", key, timeout)
            return
        try:
            lock.reacquire()
        except redis.exceptions.LockNotOwnedError:
            log.error("lock %s was lost (expired or taken over) while its holder worked", key)
            return
        except redis.exceptions.RedisError as exc:  # Redis briefly away: try again at the next beat
            log.warning("could not renew lock %s: %s", key, exc)


def _holder(client, name: str) -> str:
    try:
        value = client.get(name)
    except Exception:  # only for a log line
        return "?"
    return value.decode(errors="replace") if value else "nobody (just released)"


def _db_acquire(key: str, token: str, timeout: int) -> bool:
    now = timezone.now()
    expires = now + timedelta(seconds=timeout)
    try:
        with transaction.atomic():
            TaskLock.objects.create(key=key, token=token, expires_at=expires)
        return True
    except IntegrityError:
        # Held: take it over only if it expired (compare-and-swap on the expiry).
        taken = TaskLock.objects.filter(key=key, expires_at__lte=now).update(token=token, expires_at=expires)
        if taken:
            log.warning("lock %s had expired; taken over", key)
        return bool(taken)
