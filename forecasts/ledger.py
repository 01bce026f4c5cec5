"""A hash chain of published claims: tamper evidence for the record.

Every publication, correction, void and judgement appends an entry whose
digest covers the previous digest and the entry's canonical JSON. Changing a
published claim outside forecasts.services, or editing or deleting an entry,
breaks either the chain or the match between a forecast and its latest entry,
and `python manage.py verify_ledger` reports it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC

from django.db import connection, transaction

from forecasts.models import Forecast, LedgerEntry

GENESIS = "0" * 64
_LOCK_KEY = 0x48494E44  # "HIND": serialises appends on PostgreSQL


def claim_of(forecast: Forecast) -> dict:
    """The published claim in plain JSON types (what the chain protects)."""
    return {
        "id": forecast.pk,
        "strategist": forecast.strategist.slug,
        "firm": forecast.firm.slug if forecast.firm_id else None,
        "source": forecast.source.url,
        "quote": forecast.quote,
        "instrument": forecast.instrument.symbol,
        "kind": forecast.kind,
        "target": forecast.target,
        "target_upper": forecast.target_upper,
        "other_instrument": forecast.other_instrument.symbol if forecast.other_instrument_id else None,
        "basis": forecast.basis,
        "made_at": forecast.made_at.astimezone(UTC).isoformat(),
        "deadline": forecast.deadline.isoformat(),
        "deadline_source": forecast.deadline_source,
        "void": forecast.void_reason if forecast.void_reason.startswith("Editor:") else None,
    }


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(previous: str, payload: str) -> str:
    return hashlib.sha256((previous + "\n" + payload).encode("utf-8")).hexdigest()


def append(forecast: Forecast, *, action: str, actor=None, reason: str = "") -> LedgerEntry:
    """Append the forecast's current claim to the chain (inside the caller's transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger.append must run inside the transaction that changes the forecast")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    last = LedgerEntry.objects.order_by("-seq").first()
    previous = last.digest if last else GENESIS
    payload = canonical({"action": action, "claim": claim_of(forecast), "reason": reason})
    return LedgerEntry.objects.create(
        seq=(last.seq + 1) if last else 1,
        forecast=forecast,
        action=action,
        payload=payload,
        previous_digest=previous,
        digest=digest(previous, payload),
        actor=actor,
    )


@dataclass
class Verification:
    entries: int = 0
    forecasts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify() -> Verification:
    """Recompute the chain and check every published forecast against its latest entry."""
    result = Verification()
    previous, expected_seq = GENESIS, 1
    latest: dict[int, LedgerEntry] = {}
    for entry in LedgerEntry.objects.order_by("seq").iterator(chunk_size=2000):
        result.entries += 1
        if entry.seq != expected_seq:
            result.problems.append(f"entry #{expected_seq} is missing (next is #{entry.seq})")
        if entry.previous_digest != previous:
            result.problems.append(
                f"entry #{entry.seq}: previous digest does not match entry #{entry.seq - 1}"
            )
        if digest(entry.previous_digest, entry.payload) != entry.digest:
            result.problems.append(f"entry #{entry.seq}: payload was altered (digest mismatch)")
        previous, expected_seq = entry.digest, entry.seq + 1
        latest[entry.forecast_id] = entry
    published = Forecast.all_objects.filter(published_at__isnull=False).select_related(
        "strategist", "firm", "source", "instrument", "other_instrument"
    )
    for forecast in published.iterator(chunk_size=2000):
        result.forecasts += 1
        entry = latest.get(forecast.pk)
        if entry is None:
            result.problems.append(f"forecast {forecast.pk} is published but has no ledger entry")
            continue
        recorded = json.loads(entry.payload)["claim"]
        current = claim_of(forecast)
        changed = sorted(k for k in current.keys() | recorded.keys() if current.get(k) != recorded.get(k))
        if changed:
            result.problems.append(
                f"forecast {forecast.pk}: {', '.join(changed)} changed outside the record "
                f"(ledger entry #{entry.seq} has {', '.join(f'{k}={recorded.get(k)!r}' for k in changed)})"
            )
    unpublished = set(latest) - set(published.values_list("pk", flat=True))
    for pk in sorted(unpublished):
        result.problems.append(f"forecast {pk} has ledger entries but is no longer published")
    return result
