"""A lock so the same job never runs twice at once.

With REDIS_URL: a redis-py ``Lock`` (atomic SET NX PX, released only by its owner's token, expiring on
its own if the worker dies). Without Redis: a TaskLock row, whose unique key is the lock; an expired
row is taken over with a compare-and-swap update, so a crashed worker cannot block the job forever.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketdata.models import TaskLock

log = logging.getLogger(__name__)


@contextlib.contextmanager
def job_lock(key: str, *, timeout: int = 900) -> Iterator[bool]:
    """``with job_lock("refresh:42") as acquired:`` — ``acquired`` is False if another holder has it.

    Never blocks. ``timeout`` (seconds) bounds how long a crashed holder can keep it.
    """
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        lock = client.lock(f"hindsight:lock:{key}", timeout=timeout, blocking=False)
        acquired = bool(lock.acquire(blocking=False))
        try:
            yield acquired
        finally:
            if acquired:
                with contextlib.suppress(redis.exceptions.LockError):
                    lock.release()
        return
    token = secrets.token_hex(16)
    acquired = _db_acquire(key, token, timeout)
    try:
        yield acquired
    finally:
        if acquired:
            TaskLock.objects.filter(key=key, token=token).delete()


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
