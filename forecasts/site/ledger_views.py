"""The published ledger head, the public key that signs it and the entries to check it with: plain JSON.

/ledger/head.json  the signed head (seq, digest, time); keep a copy to check the record later
/ledger/key.json   the Ed25519 public key the heads are signed with
/ledger/entries.json?after=N  the chain itself, to recompute the digests up to a kept head
"""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from forecasts import ledger
from forecasts.models import LedgerEntry

ENTRIES_PAGE_MAX = 1000


def _json(data: dict) -> JsonResponse:
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(max_age=60, public=True)
def head_json(request):
    head = ledger.head()
    response = _json(head)
    response["ETag"] = f'"{head["seq"]}-{head["signature"][:24]}"'
    return response


@require_GET
@cache_control(max_age=86400, public=True)
def key_json(request):
    return _json(ledger.published_key())


def _int_param(request, name: str, default: int) -> int:
    try:
        return max(0, int(request.GET.get(name, default)))
    except (TypeError, ValueError):
        return default


@require_GET
@cache_control(max_age=300, public=True)
def entries_json(request):
    """Entries after seq `after`, oldest first: seq, previous digest, digest and the exact hashed payload."""
    after = _int_param(request, "after", 0)
    limit = min(_int_param(request, "limit", ENTRIES_PAGE_MAX) or ENTRIES_PAGE_MAX, ENTRIES_PAGE_MAX)
    rows = list(
        LedgerEntry.objects.filter(seq__gt=after)
        .order_by("seq")
        .values("seq", "action", "previous_digest", "digest", "payload", "recorded_at")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row["recorded_at"] = ledger.iso_time(row["recorded_at"])
    following = None
    if more:
        following = request.build_absolute_uri(
            f"{reverse('ledger-entries')}?after={rows[-1]['seq']}&limit={limit}"
        )
    return _json({"entries": rows, "next": following})
