"""The signed ledger head (issue 16): a kept head shows whether a later chain extends it or rewrote it."""

import base64
import io
import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction

from forecasts import ledger, services
from forecasts.models import Forecast, LedgerEntry
from tests.factories import InstrumentFactory, make_forecast

pytestmark = pytest.mark.django_db

SEED = bytes(range(32))  # a fixed test key: its public half is known below
SEED_B64 = base64.b64encode(SEED).decode()


@pytest.fixture(autouse=True)
def signing_key(settings, tmp_path):
    settings.HINDSIGHT_LEDGER_SIGNING_KEY = SEED_B64
    settings.HINDSIGHT_LEDGER_SIGNING_KEY_FILE = tmp_path / "unused.key"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user("rita", password="x")
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


def keep_head_file(head: dict, tmp_path) -> str:
    path = tmp_path / f"head-{head['seq']}.json"
    path.write_text(json.dumps(head))
    return str(path)


def keep(tmp_path, name="kept-head.json") -> str:
    """Save today's head as a reader would, from the public URL."""
    from django.test import Client

    path = tmp_path / name
    path.write_bytes(Client().get("/ledger/head.json").content)
    return str(path)


def verify(*against, public_key=None) -> str:
    out = StringIO()
    args = [a for source in against for a in ("--against", source)]
    if public_key:
        args += ["--public-key", public_key]
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


def three_entries(reviewer):
    """#1 A published (target 100), #2 B published, #3 A corrected to 110."""
    a = make_forecast(instrument=InstrumentFactory(), target=100.0)
    b = make_forecast(instrument=InstrumentFactory(), target=200.0)
    services.forecast_correct(a, changes={"target": 110.0}, reason="Article says 110", actor=reviewer)
    return a, b


def regenerate_chain_from(seq: int, new_payload: str) -> None:
    """What an operator with database access can do: rewrite entry `seq`, recompute every later digest."""
    entries = list(LedgerEntry.objects.order_by("seq"))
    previous = entries[seq - 2].digest if seq > 1 else ledger.GENESIS
    for entry in entries[seq - 1 :]:
        if entry.seq == seq:
            entry.payload = new_payload
        entry.previous_digest = previous
        entry.digest = ledger.digest(previous, entry.payload)
        previous = entry.digest
    # digest is unique: move the old ones out of the way first, then write the new chain.
    for entry in entries[seq - 1 :]:
        LedgerEntry.objects.filter(pk=entry.pk).update(digest=f"tmp-{entry.seq}")
    for entry in entries[seq - 1 :]:
        LedgerEntry.objects.filter(pk=entry.pk).update(
            payload=entry.payload, previous_digest=entry.previous_digest, digest=entry.digest
        )


# --- The head as published --------------------------------------------------------------------------------


def test_key_json_publishes_the_public_half_of_the_configured_key(client):
    expected = base64.b64encode(Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw())
    response = client.get("/ledger/key.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"]
    assert response.json() == {
        "algorithm": "Ed25519",
        "key_id": ledger.key_id(expected.decode()),
        "public_key": expected.decode(),
    }


def test_head_of_an_empty_ledger_is_seq_0_and_genesis(client, tmp_path):
    head = client.get("/ledger/head.json").json()
    assert (head["seq"], head["digest"], head["recorded_at"]) == (0, ledger.GENESIS, None)
    ledger.check_head_signature(head)
    assert "ledger OK: 0 entries" in verify(keep_head_file(head, tmp_path))


def test_head_covers_the_last_entry_and_is_signed(client, reviewer):
    three_entries(reviewer)
    response = client.get("/ledger/head.json")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    head = response.json()
    last = LedgerEntry.objects.order_by("-seq").first()
    assert (head["seq"], head["digest"]) == (3, last.digest)
    assert head["recorded_at"] == ledger.iso_time(last.recorded_at)
    assert head["public_key"] == client.get("/ledger/key.json").json()["public_key"]
    ledger.check_head_signature(head)  # raises if not
    # Signed over every field: changing any one of them breaks the signature.
    for field, value in [("seq", 2), ("digest", "f" * 64), ("signed_at", "2020-01-01T00:00:00Z")]:
        with pytest.raises(ledger.HeadError, match="does not verify"):
            ledger.check_head_signature({**head, field: value})


def test_head_is_cached_until_the_chain_grows_or_the_day_changes(reviewer):
    a, _ = three_entries(reviewer)
    first = ledger.head()
    assert ledger.head() is not first and ledger.head() == first  # the cached signature, not a new one
    services.forecast_void(a, reason="Misquote", actor=reviewer)
    grown = ledger.head()
    assert grown["seq"] == 4 and grown["digest"] != first["digest"]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1)):
        tomorrow = ledger.head()
    assert (tomorrow["seq"], tomorrow["digest"]) == (4, grown["digest"])
    assert tomorrow["signed_at"][:10] > grown["signed_at"][:10]  # re-signed daily
    ledger.check_head_signature(tomorrow)


def test_one_head_publication_per_committed_batch(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for target in (100.0, 200.0, 300.0):
            make_forecast(instrument=InstrumentFactory(), target=target)
    assert [c for c in callbacks if c is ledger._publish_after_commit] == [ledger._publish_after_commit]
    assert LedgerEntry.objects.count() == 3
    cached = cache.get("hindsight:ledger-head:v1")
    assert cached["seq"] == 3 and cached["digest"] == LedgerEntry.objects.get(seq=3).digest


def test_a_rolled_back_batch_does_not_leave_the_hook_behind(django_capture_on_commit_callbacks):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_forecast(instrument=InstrumentFactory())
        raise RuntimeError("abort")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        make_forecast(instrument=InstrumentFactory())
    assert ledger._publish_after_commit in callbacks


def test_the_daily_beat_entry_publishes_the_head():
    from config.celery import _install_beat_schedule, app

    _install_beat_schedule(app)
    entry = app.conf.beat_schedule["publish-ledger-head"]
    assert entry["task"] == "forecasts.ledger.publish_head" and entry["task"] in app.tasks
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({0}, {5})
    make_forecast(instrument=InstrumentFactory())
    head = app.tasks["forecasts.ledger.publish_head"].apply().get()
    assert head["seq"] == 1 and cache.get("hindsight:ledger-head:v1") == head


def test_the_feed_carries_the_head(client, reviewer, tmp_path):
    three_entries(reviewer)
    body = client.get("/feeds/resolutions/").content.decode()
    head = ledger.head()
    assert 'xmlns:hindsight="urn:hindsight:ledger-head:1"' in body
    assert f'<hindsight:ledgerHead algorithm="Ed25519" digest="{head["digest"]}"' in body
    assert f'signature="{head["signature"]}"' in body
    # The first entry's summary is the head JSON itself: a feed archive is a kept head.
    from xml.etree import ElementTree

    atom = "{http://www.w3.org/2005/Atom}"
    entry = ElementTree.fromstring(body).find(f"{atom}entry")
    assert entry.find(f"{atom}id").text.startswith(
        f"tag:testserver,2025-01-01:ledger-head/3/{head['digest'][:16]}/"
    )
    kept = json.loads(entry.find(f"{atom}summary").text)
    assert kept == head
    assert "extends the kept head #3" in verify(keep_head_file(kept, tmp_path))


def test_entries_json_lets_a_reader_recompute_the_chain(client, reviewer):
    three_entries(reviewer)
    kept = client.get("/ledger/head.json").json()
    page = client.get("/ledger/entries.json?limit=2").json()
    entries = page["entries"]
    entries += client.get(page["next"]).json()["entries"]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    # What METHODOLOGY.md tells a reader to do, with no access to the database:
    previous = ledger.GENESIS
    for e in entries:
        assert e["previous_digest"] == previous
        previous = ledger.digest(previous, e["payload"])
        assert previous == e["digest"]
    assert (entries[kept["seq"] - 1]["digest"]) == kept["digest"]
    assert client.get("/ledger/entries.json?after=3").json() == {"entries": [], "next": None}


# --- verify_ledger --against -----------------------------------------------------------------------------


def test_against_a_kept_head_passes_when_the_chain_only_grew(tmp_path, reviewer):
    _, b = three_entries(reviewer)
    kept = keep(tmp_path)
    services.forecast_void(b, reason="Misquote", actor=reviewer)
    make_forecast(instrument=InstrumentFactory())
    out = verify(kept)
    assert "ledger OK: 5 entries" in out
    assert "ledger extends the kept head #3" in out


def test_against_catches_a_regenerated_chain(tmp_path, reviewer):
    """The operator rewrites what A first claimed (100 → 150) and recomputes every later digest: the chain is
    self-consistent, so verify_ledger alone passes; the head a reader kept does not match any more."""
    three_entries(reviewer)
    kept = keep(tmp_path)
    original = LedgerEntry.objects.get(seq=1).payload
    assert '"target":100.0' in original
    regenerate_chain_from(1, original.replace('"target":100.0', '"target":150.0'))

    assert "ledger OK: 3 entries, 2 published forecasts match" in verify()  # the rewrite is invisible alone
    with pytest.raises(CommandError) as exc:
        verify(kept)
    message = str(exc.value)
    assert "ledger verification FAILED (1 problem(s))" in message
    assert "entry #3 now has digest" in message and "was rewritten" in message
    assert json.loads(Path(kept).read_text())["digest"] in message


def test_against_catches_a_rewrite_before_an_older_kept_head(tmp_path, reviewer):
    _, b = three_entries(reviewer)
    old = keep(tmp_path, "old.json")  # head #3
    services.forecast_void(b, reason="Misquote", actor=reviewer)
    new = keep(tmp_path, "new.json")  # head #4
    assert "extends the kept head #3" in verify(old, new)
    regenerate_chain_from(2, LedgerEntry.objects.get(seq=2).payload.replace("200.0", "250.0"))
    assert "ledger OK" in verify()
    with pytest.raises(CommandError) as exc:
        verify(old, new)
    assert "head #3" in str(exc.value) and "head #4" in str(exc.value)


def test_against_catches_a_truncated_chain(tmp_path, reviewer):
    _, b = three_entries(reviewer)
    services.forecast_void(b, reason="Misquote", actor=reviewer)
    kept = keep(tmp_path)  # head #4
    # Undo the void behind the service's back: drop entry #4 and restore the forecast.
    LedgerEntry.objects.filter(seq=4).delete()
    Forecast.all_objects.filter(pk=b.pk).update(status="pending", void_reason="")
    assert "ledger OK: 3 entries" in verify()
    with pytest.raises(CommandError, match=r"entry #4 no longer exists \(the chain now ends at #3\)"):
        verify(kept)


def test_against_rejects_an_altered_or_foreign_head(tmp_path, reviewer):
    three_entries(reviewer)
    head = ledger.head()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**head, "seq": 2, "digest": LedgerEntry.objects.get(seq=2).digest}))
    with pytest.raises(CommandError, match="signature of head #2 does not verify"):
        verify(str(forged))

    other = Ed25519PrivateKey.generate()
    other_public = base64.b64encode(other.public_key().public_bytes_raw()).decode()
    foreign = {k: v for k, v in head.items() if k != "signature"}
    foreign |= {"public_key": other_public, "key_id": ledger.key_id(other_public)}
    foreign["signature"] = base64.b64encode(
        other.sign(ledger.HEAD_CONTEXT + ledger.canonical(foreign).encode())
    ).decode()
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(foreign))
    with pytest.raises(CommandError, match=f"signed with key {ledger.key_id(other_public)}, not with"):
        verify(str(path))
    # A head from before a key rotation checks against the old public key, given explicitly.
    assert "extends the kept head #3" in verify(str(path), public_key=other_public)

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="cannot read the kept head"):
        verify(str(broken))
    with pytest.raises(CommandError, match="lacks"):
        verify(keep_head_file({"seq": 1}, tmp_path))


def test_against_reads_a_url(monkeypatch, reviewer):
    three_entries(reviewer)
    body = json.dumps(ledger.head()).encode()
    seen = []

    def fake_urlopen(request, timeout):
        seen.append((request.full_url, timeout))
        return io.BytesIO(body)

    monkeypatch.setattr(ledger.urllib.request, "urlopen", fake_urlopen)
    assert "extends the kept head #3" in verify("https://hindsight.example.com/ledger/head.json")
    assert seen == [("https://hindsight.example.com/ledger/head.json", 15)]


# --- Keys -------------------------------------------------------------------------------------------------


def test_signing_key_formats(settings, tmp_path):
    assert ledger.load_private_key(SEED_B64).private_bytes_raw() == SEED
    urlsafe = base64.urlsafe_b64encode(SEED).decode().rstrip("=")
    assert ledger.load_private_key(urlsafe).private_bytes_raw() == SEED
    from cryptography.hazmat.primitives import serialization

    pem = Ed25519PrivateKey.from_private_bytes(SEED).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert ledger.load_private_key(pem.decode()).private_bytes_raw() == SEED
    with pytest.raises(ValueError, match="32 bytes"):
        ledger.load_private_key(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="not valid base64"):
        ledger.load_private_key("not base64 at all!")


def test_embedded_default_key_is_generated_once_into_the_file(settings, tmp_path):
    settings.HINDSIGHT_LEDGER_SIGNING_KEY = ""
    settings.HINDSIGHT_LEDGER_SIGNING_KEY_FILE = tmp_path / "var" / "ledger-signing.key"
    first = ledger.published_key()
    path = settings.HINDSIGHT_LEDGER_SIGNING_KEY_FILE
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    ledger._signing_key_for.cache_clear()
    assert ledger.published_key() == first  # read back, not regenerated
    assert ledger.load_private_key(path.read_text()).public_key().public_bytes_raw() == base64.b64decode(
        first["public_key"]
    )


def test_methodology_page_explains_how_to_check(client):
    html = client.get("/methodology/").content.decode()
    assert 'id="record"' in html
    for url in ("/ledger/head.json", "/ledger/key.json", "/ledger/entries.json"):
        assert f'href="{url}"' in html
    assert "verify_ledger --against" in html
