"""A hash chain of published claims: tamper evidence for the record.

Every publication, correction, void and judgement appends an entry whose
digest covers the previous digest and the entry's canonical JSON. Changing a
published claim outside forecasts.services, or editing or deleting an entry,
breaks either the chain or the match between a forecast and its latest entry,
and `python manage.py verify_ledger` reports it.

The chain alone cannot show that the operator did not regenerate all of it,
consistently. So the service also publishes a signed *head* (the last
sequence number, its digest and the time, Ed25519-signed with the
deployment's key) at /ledger/head.json and in the Atom feed, re-signed every
day and after each commit that appended entries. Anyone who keeps a head can
later check that today's chain still has that digest at that sequence number
(`verify_ledger --against HEAD`); a rewritten history cannot produce it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import os
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from celery import shared_task
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from forecasts.models import Forecast, LedgerEntry

GENESIS = "0" * 64
_LOCK_KEY = 0x48494E44  # "HIND": serialises appends on PostgreSQL
log = logging.getLogger(__name__)


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
    _publish_head_on_commit()
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


# --- The signed head ---------------------------------------------------------------------------------------
# A head is plain JSON: {"version", "seq", "digest", "recorded_at", "signed_at", "algorithm", "key_id",
# "public_key", "signature"}. The signature is Ed25519 over HEAD_CONTEXT + canonical JSON of every other
# field. seq 0 with the GENESIS digest is the head of an empty ledger.

HEAD_CONTEXT = b"hindsight-ledger-head-v1\n"
HEAD_FIELDS = ("version", "seq", "digest", "recorded_at", "signed_at", "algorithm", "key_id", "public_key")
_HEAD_CACHE_KEY = "hindsight:ledger-head:v1"
_HEAD_CACHE_SECONDS = 26 * 3600


class HeadError(ValueError):
    """A kept head that cannot be read, is malformed or whose signature does not verify."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional; anything else is a ValueError."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def load_private_key(text: str) -> Ed25519PrivateKey:
    """A private key from HINDSIGHT_LEDGER_SIGNING_KEY: base64 of the 32-byte seed, or a PEM (PKCS#8) key."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("HINDSIGHT_LEDGER_SIGNING_KEY is a PEM key but not an Ed25519 one")
        return key
    try:
        seed = _unb64(text)
    except ValueError as exc:
        raise ValueError("HINDSIGHT_LEDGER_SIGNING_KEY is not valid base64") from exc
    if len(seed) != 32:
        raise ValueError(f"HINDSIGHT_LEDGER_SIGNING_KEY must be 32 bytes in base64 (got {len(seed)})")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _key_from_file(path: Path) -> Ed25519PrivateKey:
    """The embedded default: a key kept in var/, generated on first use (atomically: several processes)."""
    try:
        return load_private_key(path.read_text())
    except FileNotFoundError:
        pass
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(_b64(seed) + "\n")
    try:
        os.link(tmp, path)  # fails if another process got there first: then use theirs
        log.warning(
            "generated a new ledger signing key in %s (set HINDSIGHT_LEDGER_SIGNING_KEY in production)", path
        )
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return load_private_key(path.read_text())


@functools.cache
def _signing_key_for(configured: str, path: str) -> Ed25519PrivateKey:
    if configured:
        return load_private_key(configured)
    if not settings.DEBUG:
        log.warning("HINDSIGHT_LEDGER_SIGNING_KEY is not set: signing ledger heads with the key in %s", path)
    return _key_from_file(Path(path))


def signing_key() -> Ed25519PrivateKey:
    return _signing_key_for(
        settings.HINDSIGHT_LEDGER_SIGNING_KEY, str(settings.HINDSIGHT_LEDGER_SIGNING_KEY_FILE)
    )


def public_key_text(key: Ed25519PublicKey) -> str:
    return _b64(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def key_id(public_key: str) -> str:
    return hashlib.sha256(_unb64(public_key)).hexdigest()[:16]


def load_public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = _unb64(text)
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key is 32 bytes (got {len(raw)})")
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise HeadError(f"not an Ed25519 public key: {exc}") from exc


def published_key() -> dict:
    """What /ledger/key.json publishes: the public half of the deployment's signing key."""
    public = public_key_text(signing_key().public_key())
    return {"algorithm": "Ed25519", "key_id": key_id(public), "public_key": public}


def iso_time(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def sign_head(seq: int, digest_: str, recorded_at: datetime | None, signed_at: datetime) -> dict:
    key = signing_key()
    public = public_key_text(key.public_key())
    head = {
        "version": 1,
        "seq": seq,
        "digest": digest_,
        "recorded_at": iso_time(recorded_at),
        "signed_at": iso_time(signed_at.replace(microsecond=0)),
        "algorithm": "Ed25519",
        "key_id": key_id(public),
        "public_key": public,
    }
    head["signature"] = _b64(key.sign(HEAD_CONTEXT + canonical(head).encode("utf-8")))
    return head


def check_head_signature(head: dict, public_key: str | None = None) -> None:
    """Raise HeadError unless `head` is well formed and signed by `public_key` (default: ours)."""
    if not isinstance(head, dict):
        raise HeadError("a ledger head is a JSON object")
    missing = [k for k in (*HEAD_FIELDS, "signature") if k not in head]
    if missing:
        raise HeadError(f"the head lacks {', '.join(missing)}")
    if head["version"] != 1 or head["algorithm"] != "Ed25519":
        raise HeadError(f"unknown head version {head['version']!r} / algorithm {head['algorithm']!r}")
    if not all(isinstance(head[k], str) for k in ("digest", "signed_at", "public_key", "signature")):
        raise HeadError("the head's digest, signed_at, public_key and signature must be strings")
    if not isinstance(head["seq"], int) or isinstance(head["seq"], bool) or head["seq"] < 0:
        raise HeadError(f"the head's seq {head['seq']!r} is not a sequence number")
    expected = public_key or published_key()["public_key"]
    if head["public_key"] != expected:
        raise HeadError(
            f"the head was signed with key {key_id(head['public_key'])}, not with the expected key "
            f"{key_id(expected)} (if the key was rotated, pass the old public key with --public-key)"
        )
    try:
        signature = _unb64(head["signature"])
        message = HEAD_CONTEXT + canonical({k: head[k] for k in HEAD_FIELDS}).encode("utf-8")
        load_public_key(expected).verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        raise HeadError(
            f"the signature of head #{head['seq']} does not verify: the head was altered or not signed by "
            f"key {key_id(expected)}"
        ) from exc


def _last_entry() -> tuple[int, str, datetime | None]:
    row = LedgerEntry.objects.order_by("-seq").values_list("seq", "digest", "recorded_at").first()
    return row if row else (0, GENESIS, None)


def head(*, refresh: bool = False) -> dict:
    """The current signed head: computed on read from the last entry (one indexed query) and cached.

    The cached signature is reused while it covers the last entry, was made with the current key and on
    the current UTC day, so the published head changes after each append batch and at least daily.
    """
    seq, digest_, recorded_at = _last_entry()
    now = timezone.now()
    if not refresh:
        cached = cache.get(_HEAD_CACHE_KEY)
        if (
            isinstance(cached, dict)
            and cached.get("seq") == seq
            and cached.get("digest") == digest_
            and cached.get("public_key") == published_key()["public_key"]
            and str(cached.get("signed_at", "")).startswith(now.date().isoformat())
        ):
            return cached
    signed = sign_head(seq, digest_, recorded_at, now)
    cache.set(_HEAD_CACHE_KEY, signed, _HEAD_CACHE_SECONDS)
    return signed


@shared_task(name="forecasts.ledger.publish_head", ignore_result=True)
def publish_head() -> dict:
    """Sign and publish a fresh head (the daily beat entry, and after each commit that appended)."""
    signed = head(refresh=True)
    log.info(
        "ledger head #%s %s signed at %s by key %s",
        signed["seq"],
        signed["digest"],
        signed["signed_at"],
        signed["key_id"],
    )
    return signed


def _publish_after_commit() -> None:
    try:
        publish_head()
    except Exception:  # the commit already happened; the next read signs the head anyway
        log.exception("could not publish the ledger head after commit")


def _publish_head_on_commit() -> None:
    """Register one head publication per transaction, however many entries it appends (no signing here)."""
    conn = transaction.get_connection()
    # Django replaces run_on_commit with a new list on commit, rollback and savepoint rollback, so holding the
    # list we registered in tells whether this transaction already has the hook (without scanning it).
    if getattr(conn, "_hindsight_head_hook_list", None) is not conn.run_on_commit:
        transaction.on_commit(_publish_after_commit, robust=True)
        conn._hindsight_head_hook_list = conn.run_on_commit


# --- Checking a kept head ----------------------------------------------------------------------------------


def read_head(source: str) -> dict:
    """A kept head from a file or an http(s) URL."""
    try:
        if source.startswith(("http://", "https://")):
            request = urllib.request.Request(source, headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=15) as response:
                text = response.read(1_000_000).decode("utf-8")
        else:
            text = Path(source).read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, ValueError) as exc:
        raise HeadError(f"cannot read the kept head {source}: {exc}") from exc


def check_extends(kept: dict, public_key: str | None = None) -> list[str]:
    """Problems that show today's chain does not extend the kept, signed head (empty when it does).

    The signature proves the head is one the service published; the entry at its seq must still carry its
    digest (and so, through the chain, every entry before it is unchanged). That the chain from there on is
    intact is `verify()`'s part.
    """
    check_head_signature(kept, public_key)
    seq, claimed = kept["seq"], kept["digest"]
    signed = f"head #{seq} signed at {kept['signed_at']}"
    if seq == 0:
        return (
            [] if claimed == GENESIS else [f"{signed}: an empty ledger's head must have the genesis digest"]
        )
    entry = LedgerEntry.objects.filter(seq=seq).values_list("digest", "recorded_at").first()
    if entry is None:
        last = _last_entry()[0]
        return [
            f"{signed}: entry #{seq} no longer exists (the chain now ends at #{last}): "
            "history was truncated or rewritten"
        ]
    current, recorded_at = entry
    problems = []
    if current != claimed:
        problems.append(
            f"{signed}: entry #{seq} now has digest {current} but the kept head says {claimed}: "
            f"entry #{seq} or an earlier one was rewritten since (the chain was regenerated)"
        )
    elif kept["recorded_at"] is not None and iso_time(recorded_at) != kept["recorded_at"]:
        problems.append(
            f"{signed}: entry #{seq} now says it was recorded at {iso_time(recorded_at)}, "
            f"the kept head says {kept['recorded_at']}"
        )
    return problems
