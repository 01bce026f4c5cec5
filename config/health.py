"""/healthz for load balancers: database, Redis, and how fresh each market's prices are.

Cheap enough to poll every second: the database and Redis checks are one
round trip each, and the per-market freshness (one aggregate over recent
fetch logs) is cached for a few seconds in process memory. The status code
reflects only what the web process needs to serve (database, and Redis when
configured); stale prices are reported in the body, not as a failure, so a
vendor outage does not take the site down.
"""

from __future__ import annotations

import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

_FRESHNESS_TTL = 5.0
_freshness_cache: dict = {"at": 0.0, "value": None}


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # report any failure, never raise from a health check
        return f"error: {type(exc).__name__}"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured (tasks run in-process)"
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
        client.ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def market_freshness(now=None) -> dict[str, dict]:
    """Age of the last successful price refresh per market (calendar code)."""
    from marketdata.models import FetchLog, FetchOutcome, Instrument

    now = now or timezone.now()
    recent = now - timedelta(days=settings.HINDSIGHT_HEALTH_LOOKBACK_DAYS)
    last = dict(
        FetchLog.objects.filter(started_at__gte=recent, outcome__in=[FetchOutcome.OK, FetchOutcome.EMPTY])
        .values_list("instrument__calendar_code")
        .annotate(last=Max("started_at"))
        .values_list("instrument__calendar_code", "last")
    )
    markets = Instrument.objects.filter(trading_ended_on__isnull=True).values_list("calendar_code", flat=True)
    out = {}
    for code in sorted(set(markets)):
        at = last.get(code)
        age = (now - at).total_seconds() if at else None
        out[code] = {
            "last_refresh": at.isoformat() if at else None,
            "age_seconds": round(age) if age is not None else None,
            "stale": age is None or age > settings.HINDSIGHT_HEALTH_STALE_HOURS * 3600,
        }
    return out


def _cached_freshness() -> dict | str:
    now = time.monotonic()
    if _freshness_cache["value"] is None or now - _freshness_cache["at"] > _FRESHNESS_TTL:
        try:
            _freshness_cache["value"] = market_freshness()
        except Exception as exc:
            return f"error: {type(exc).__name__}"
        _freshness_cache["at"] = now
    return _freshness_cache["value"]


@never_cache
def healthz(request):
    database = _check_database()
    broker = _check_redis()
    healthy = database == "ok" and not broker.startswith("error")
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": database,
        "redis": broker,
        "prices": _cached_freshness() if database == "ok" else "unknown",
    }
    return JsonResponse(body, status=200 if healthy else 503)
