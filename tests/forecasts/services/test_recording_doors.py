"""One way in: every door records through forecasts.services.recording, so every rule holds on every door.

The doors: the admin add form, the editor's desk, the CSV import as a command and in the admin, and the
API. Each test below is a table of door x rule: the same row, sent through each door, is stored whole or
refused with a message naming the same field, and a refusal leaves nothing behind. (The admin add form
picks an existing source and strategist, so the rules about a source's URL and publication and about a
new name are the desk's there: it is the admin's way to record an article.)
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken

from forecasts import services
from forecasts.models import Forecast, ForecastEvent, LedgerEntry, Source
from forecasts.services.recording import ForecastInput, SourceInput, record_source

pytestmark = pytest.mark.django_db

ROW = {
    "strategist": "Ann Lee",
    "firm": "Acme Research",
    "publication": "The Paper",
    "url": "https://paper.example/2025/02/14/hsi",
    "title": "Hong Kong stocks",
    "published": "2025-02-14",
    "quote": "Ann Lee expects the HSI to reach 25,000 by June and 26,000 by December.",
    "instrument": "HSI",
    "kind": "reach",
    "target": "25000",
    "target_upper": "",
    "other_instrument": "",
    "basis": "close",
    "deadline": "2025-06-30",
    "deadline_source": "stated",
}
SECOND_CLAIM = {"target": "26000", "deadline": "2025-12-31"}  # the same sentence's second claim
COLUMNS = [*ROW, "confirm_reason", "supersedes"]


@dataclass
class Outcome:
    stored: list[Forecast] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)
    text: str = ""

    @property
    def refused(self) -> bool:
        return not self.stored and bool(self.fields)


def _staff(django_user_model, name: str, group: str):
    user = django_user_model.objects.create_user(name, password="pw-12345", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(django_user_model):
    return _staff(django_user_model, "eddie", "Editors")


@pytest.fixture
def reviewer(django_user_model):
    return _staff(django_user_model, "rita", "Reviewers")


def _new(before: set[int]) -> list[Forecast]:
    return list(Forecast.all_objects.exclude(pk__in=before).order_by("pk"))


def _cell(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- the doors -----------------------------------------------------------------------------------


def csv_command(rows: list[dict], user, client, tmp_path) -> Outcome:
    path = tmp_path / "forecasts.csv"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows([{k: _cell(row.get(k, "")) for k in COLUMNS} for row in rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    before = set(Forecast.all_objects.values_list("pk", flat=True))
    try:
        call_command("import_forecasts", str(path), "--user", user.username, stdout=io.StringIO())
    except CommandError as exc:
        text = str(exc)
        return Outcome(_new(before), set(re.findall(r"column (\w+):", text)), text)
    return Outcome(_new(before))


def csv_admin(rows: list[dict], user, client, tmp_path) -> Outcome:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows([{k: _cell(row.get(k, "")) for k in COLUMNS} for row in rows])
    client.force_login(user)
    before = set(Forecast.all_objects.values_list("pk", flat=True))
    upload = io.BytesIO(out.getvalue().encode("utf-8"))
    upload.name = "forecasts.csv"
    page = client.post(
        "/admin/forecasts/forecast/import-csv/", {"file": upload, "confirm": "1"}
    ).content.decode()
    errors = re.findall(r"<li>row \d+, column (\w+):", page)
    return Outcome(_new(before), set(errors), page)


def desk(rows: list[dict], user, client, tmp_path) -> Outcome:
    first = rows[0]
    data = {
        "url": first["url"],
        "publication": first["publication"],
        "title": first["title"],
        "published": first["published"],
        "language": "en",
        "text": first["quote"],
        "html": "",
        "save": "1",
        "c-TOTAL_FORMS": str(len(rows)),
        "c-INITIAL_FORMS": "0",
        "c-MIN_NUM_FORMS": "0",
        "c-MAX_NUM_FORMS": "50",
    }
    for i, row in enumerate(rows):
        for name in ("strategist", "firm", "quote", "instrument", "kind", "target", "target_upper"):
            data[f"c-{i}-{name}"] = _cell(row[name])
        data[f"c-{i}-accept"] = "on"
        data[f"c-{i}-other_instrument"] = row["other_instrument"]
        data[f"c-{i}-deadline"] = row["deadline"]
        data[f"c-{i}-deadline_source"] = row["deadline_source"] or "none"
        data[f"c-{i}-confirm_reason"] = row.get("confirm_reason", "")
        data[f"c-{i}-supersedes"] = _cell(row.get("supersedes", ""))
    client.force_login(user)
    before = set(Forecast.all_objects.values_list("pk", flat=True))
    response = client.post("/admin/forecasts/source/desk/", data)
    if response.status_code == 302:
        return Outcome(_new(before))
    fields = set()
    for name in ("article", "formset"):
        form = response.context.get(name)
        forms = getattr(form, "forms", [form] if form is not None else [])
        for f in forms:
            fields |= {k for k in f.errors if k != "__all__"}
            fields |= {m.split(":")[0] for m in f.non_field_errors() if ":" in m}
    return Outcome(_new(before), fields, response.content.decode())


def api(rows: list[dict], user, client, tmp_path) -> Outcome:
    first = rows[0]
    body = {k: first[k] for k in ("url", "publication", "title", "published")}
    body["forecasts"] = []
    for row in rows:
        item = {k: row[k] for k in ("strategist", "firm", "quote", "instrument", "kind", "basis")}
        for name in ("target", "target_upper"):
            value = row[name]
            item[name] = (
                value if not isinstance(value, str) else (None if value == "" else _json_number(value))
            )
        item["deadline"] = row["deadline"] or None
        item["deadline_source"] = row["deadline_source"] or None
        item["other_instrument"] = row["other_instrument"] or None
        if row.get("made_at"):
            item["made_at"] = row["made_at"]
        if row.get("confirm_reason"):
            item["confirm_reason"] = row["confirm_reason"]
        if row.get("supersedes"):
            item["supersedes"] = _json_number(str(row["supersedes"]))
        body["forecasts"].append(item)
    token = AuthToken.objects.create(user=user)[1]
    before = set(Forecast.all_objects.values_list("pk", flat=True))
    response = client.post(
        "/api/sources/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    if response.status_code in (200, 201):
        return Outcome(_new(before))
    error = response.json()["error"]
    return Outcome(_new(before), {name.split(".")[-1] for name in error["fields"]}, json.dumps(error))


def _json_number(text: str):
    """A JSON number where JSON has one; anything else (1e999, NaN, "abc") goes as text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float) and math.isfinite(value) else text


def admin_add(rows: list[dict], user, client, tmp_path) -> Outcome:
    """The admin add form: one forecast at a time, on a source and strategist already recorded."""
    first = rows[0]
    source = (
        Source.objects.filter(url=first["url"]).first()
        or record_source(
            SourceInput(url=first["url"], publication=first["publication"], published=first["published"]),
            [ForecastInput(strategist="Setup Person", quote="setup", instrument="HSI", kind="direction_up")],
        ).source
    )
    client.force_login(user)
    before = set(Forecast.all_objects.values_list("pk", flat=True)) | set(
        Forecast.all_objects.filter(source=source, strategist__name="Setup Person").values_list(
            "pk", flat=True
        )
    )
    fields: set[str] = set()
    text = ""
    for row in rows:
        firm = services.firm_get_or_create(row["firm"])
        person = services.strategist_get_or_create(row["strategist"], firm=firm)
        made_at = row.get("made_at") or "2025-02-14 08:00:00"
        day, _, time = made_at.replace("T", " ").partition(" ")
        data = {
            "strategist": person.pk,
            "firm": firm.pk if firm else "",
            "source": source.pk,
            "quote": row["quote"],
            "instrument": services.instrument_by_name(row["instrument"]).pk,
            "kind": row["kind"],
            "target": _cell(row["target"]),
            "target_upper": _cell(row["target_upper"]),
            "basis": row["basis"],
            "made_at_0": day,
            "made_at_1": time[:8] or "08:00:00",
            "deadline": row["deadline"],
            "deadline_source": row["deadline_source"] or "none",
            "confirm_reason": row.get("confirm_reason", ""),
            "supersedes": _cell(row.get("supersedes", "")),
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        }
        response = client.post("/admin/forecasts/forecast/add/", data)
        if response.status_code != 302:
            form = response.context["adminform"].form
            fields |= {k for k in form.errors if k != "__all__"}
            text += response.content.decode()
    return Outcome(_new(before) if not fields else [], fields, text)


DOORS = {"csv_command": csv_command, "csv_admin": csv_admin, "desk": desk, "api": api, "admin_add": admin_add}
# Doors that take the article itself (its URL and publication) and new names as typed.
ARTICLE_DOORS = ["csv_command", "csv_admin", "desk", "api"]


@pytest.fixture(params=list(DOORS))
def door(request):
    return request.param


def send(door_name: str, rows, user, client, tmp_path) -> Outcome:
    return DOORS[door_name](rows, user, client, tmp_path)


# --- two claims of one sentence ---------------------------------------------------------------------


def test_two_claims_in_one_sentence_are_both_stored_and_a_resend_stores_nothing(
    door, reviewer, client, tmp_path, hsi_with_prices
):
    rows = [ROW, {**ROW, **SECOND_CLAIM}]
    first = send(door, rows, reviewer, client, tmp_path)
    assert not first.fields, first.text[:2000]
    assert sorted(f.target for f in first.stored) == [25000.0, 26000.0]
    assert all(f.published_at is not None for f in first.stored)  # a reviewer's are published
    assert {f.quote for f in first.stored} == {ROW["quote"]}
    again = send(door, rows, reviewer, client, tmp_path)
    assert not again.fields and again.stored == []  # nothing new


# --- the input rules, door by door ---------------------------------------------------------------

FUTURE = (timezone.now() + timedelta(days=3)).date().isoformat()
LATE = "2025-02-20T10:00:00+08:00"  # after the 2025-02-14 publication
UPSIDE_DOWN = {"target": "26000", "target_upper": "24000"}
RULES = {
    # rule: (changes to the row, the field the refusal names, the doors that take that input)
    "publication in the future": ({"published": FUTURE}, "published", ARTICLE_DOORS),
    "publication before 2000": ({"published": "1999-12-31"}, "published", ARTICLE_DOORS),
    "javascript: URL": ({"url": "javascript:alert(1)"}, "url", ARTICLE_DOORS),
    "relative URL": ({"url": "/2025/02/14/hsi"}, "url", ARTICLE_DOORS),
    "made_at after the publication": ({"made_at": LATE}, "made_at", ["api", "admin_add"]),
    "true is not a number": ({"target": True}, "target", list(DOORS)),
    "an infinite target": ({"target": "1e999"}, "target", list(DOORS)),
    "a target of 1e300": ({"target": "1e300"}, "target", list(DOORS)),
    "a target far below the market": ({"target": "100"}, "target", list(DOORS)),
    "move_pct of 1,000,000%": ({"kind": "move_pct", "target": "1000000"}, "target", list(DOORS)),
    "move_pct of -99%": ({"kind": "move_pct", "target": "-99"}, "target", list(DOORS)),
    "an unknown instrument": ({"instrument": "NOPE"}, "instrument", ARTICLE_DOORS),
    "a name of only a zero-width space": ({"strategist": "\u200b"}, "strategist", ARTICLE_DOORS),
    "a quote of only control characters": ({"quote": "\u202e\u200b\x07"}, "quote", list(DOORS)),
    "a range upside down": ({"kind": "range", **UPSIDE_DOWN}, "target_upper", list(DOORS)),
    "a deadline before the forecast": ({"deadline": "2025-01-31"}, "deadline", list(DOORS)),
    # Revisions (`supersedes`: the earlier call's id; "@name" is one of EARLIER_CALLS, made by the test).
    "revises no such forecast": ({"supersedes": "999999"}, "supersedes", list(DOORS)),
    "revises a non-number": ({"supersedes": "abc"}, "supersedes", list(DOORS)),
    "revises another strategist's call": ({"supersedes": "@other_strategist"}, "supersedes", list(DOORS)),
    "revises a call on another instrument": ({"supersedes": "@other_instrument"}, "supersedes", list(DOORS)),
    "revises a later call": ({"supersedes": "@later"}, "supersedes", list(DOORS)),
    "revises a call revised already": ({"supersedes": "@revised"}, "supersedes", list(DOORS)),
}  # fmt: skip
CASES = [
    pytest.param(door_name, rule, id=f"{door_name}-{rule}")
    for rule, (_changes, _field, doors) in RULES.items()
    for door_name in doors
]


# The earlier calls a revision may name: (strategist, instrument, kind, target, publication date).
EARLIER_CALLS = {
    "open": ("Ann Lee", "HSI", "reach", 24000, "2025-01-20"),
    "other_strategist": ("Bob Chan", "HSI", "reach", 24000, "2025-01-20"),
    "other_instrument": ("Ann Lee", "HSCEI", "direction_up", None, "2025-01-20"),
    "later": ("Ann Lee", "HSI", "reach", 24500, "2025-02-20"),
    "revised": ("Ann Lee", "HSI", "reach", 23000, "2025-01-06"),
}


def earlier_call(name: str) -> Forecast:
    """One of EARLIER_CALLS, recorded once (by the operator) on its own article."""
    strategist, instrument, kind, target, published = EARLIER_CALLS[name]
    source = SourceInput(url=f"https://paper.example/earlier/{name}", publication="P", published=published)
    item = ForecastInput(
        strategist=strategist, firm="Acme Research", quote=f"{strategist}: {instrument} {target or 'up'}",
        instrument=instrument, kind=kind, target=target, deadline="2025-12-31",
    )  # fmt: skip
    forecast = record_source(source, [item]).items[0].forecast
    if name == "revised" and not forecast.revised_by.exists():
        again = ForecastInput(**{**item.__dict__, "quote": "raised to 23,500", "target": 23500})
        again.supersedes = forecast.pk
        record_source(
            SourceInput(url=f"{source.url}/again", publication="P", published="2025-01-13"), [again]
        )
    return forecast


def _resolve(changes: dict) -> dict:
    return {
        k: earlier_call(v[1:]).pk if isinstance(v, str) and v.startswith("@") else v
        for k, v in changes.items()
    }


@pytest.mark.parametrize(("door_name", "rule"), CASES)
def test_every_rule_on_every_door(door_name, rule, reviewer, client, tmp_path, hsi_with_prices):
    changes, field_name, _doors = RULES[rule]
    changes = _resolve(changes)
    counts = (Forecast.all_objects.count(), Source.objects.count(), ForecastEvent.objects.count())
    outcome = send(door_name, [{**ROW, **changes}], reviewer, client, tmp_path)
    assert outcome.refused, f"{door_name} stored {outcome.stored} for {rule!r}"
    assert field_name in outcome.fields, (outcome.fields, outcome.text[:3000])
    # Nothing half-written: no forecast, no source, no history (the admin door's setup source aside).
    if door_name != "admin_add":
        assert (Forecast.all_objects.count(), Source.objects.count(), ForecastEvent.objects.count()) == counts


def test_a_revision_links_to_the_call_it_revises_on_every_door(
    door, reviewer, client, tmp_path, hsi_with_prices
):
    """Both stay on record (and are scored); the new one names the one it revises, in its history too."""
    earlier = earlier_call("open")
    outcome = send(door, [{**ROW, "supersedes": earlier.pk}], reviewer, client, tmp_path)
    assert not outcome.fields, outcome.text[:2000]
    (revision,) = outcome.stored
    assert revision.supersedes == earlier and list(earlier.revised_by.all()) == [revision]
    assert Forecast.all_objects.filter(pk=earlier.pk, status="pending").exists()  # still on record
    assert f"Revises #{earlier.pk}." in revision.events.get(action="created").reason
    # The same claim again is already recorded, revision and all: nothing new, no refusal.
    again = send(door, [{**ROW, "supersedes": earlier.pk}], reviewer, client, tmp_path)
    assert not again.fields and again.stored == []


def test_the_refusal_quotes_the_last_close(reviewer, client, tmp_path, hsi_with_prices):
    outcome = send("api", [{**ROW, "target": "1e300"}], reviewer, client, tmp_path)
    assert "20 times away from the last close (22,620.33 on 2025-02-14)" in outcome.text


@pytest.mark.parametrize("door", ARTICLE_DOORS)  # the admin add form picks an existing strategist
def test_text_is_cleaned_and_chinese_names_get_readable_slugs(
    door, reviewer, client, tmp_path, hsi_with_prices
):
    row = {
        **ROW,
        "strategist": "顏\u200b子琪",
        "firm": "中泰\u202e國際",
        "quote": "恒指\x07可望重上25000點。",
    }
    outcome = send(door, [row], reviewer, client, tmp_path)
    assert not outcome.fields, outcome.text[:2000]
    (f,) = outcome.stored
    assert (f.strategist.name, f.strategist.slug) == ("顏子琪", "yan-zi-qi")
    assert (f.firm.name, f.quote) == ("中泰國際", "恒指可望重上25000點。")


# --- one set of roles ----------------------------------------------------------------------------


def test_an_editors_forecasts_are_drafts_on_every_door(door, editor, client, tmp_path, hsi_with_prices):
    outcome = send(door, [ROW], editor, client, tmp_path)
    assert not outcome.fields, outcome.text[:2000]
    assert outcome.stored and all(f.published_at is None for f in outcome.stored)
    assert not LedgerEntry.objects.filter(forecast__in=outcome.stored).exists()


def test_only_a_reviewer_confirms_an_implausible_target(
    door, editor, reviewer, client, tmp_path, hsi_with_prices
):
    reason = "The article really says 500,000: kept as printed."
    row = {**ROW, "target": "500000", "confirm_reason": reason}
    by_editor = send(door, [row], editor, client, tmp_path)
    assert by_editor.refused and "confirm_reason" in by_editor.fields, by_editor.text[:2000]
    unconfirmed = send(door, [{**row, "confirm_reason": ""}], reviewer, client, tmp_path)
    assert unconfirmed.refused and "target" in unconfirmed.fields
    confirmed = send(door, [row], reviewer, client, tmp_path)
    assert not confirmed.fields, confirmed.text[:2000]
    (f,) = confirmed.stored
    assert f.target == 500_000 and f.published_at is not None
    assert (
        "confirmed by a reviewer" in f.events.get(action="created").reason
        and reason in f.events.get(action="created").reason
    )


def test_a_reviewer_confirms_an_implausible_target_with_a_reason(reviewer, editor, hsi_with_prices):
    item = ForecastInput(
        strategist="Ann Lee", quote="q", instrument="HSI", kind="reach", target=500_000,
        confirm_implausible=True, confirm_reason="The article really says 500,000 (a misprint we keep).",
    )  # fmt: skip
    source = SourceInput(url="https://paper.example/x", publication="P", published="2025-02-14")
    from forecasts.services.recording import RecordingRefused

    with pytest.raises(RecordingRefused) as refused:
        record_source(source, [item], actor=editor)
    assert "Only a reviewer" in str(refused.value)
    (recorded,) = record_source(source, [item], actor=reviewer).items
    event = recorded.forecast.events.get(action="created")
    assert "confirmed by a reviewer" in event.reason and "misprint" in event.reason


# --- possible duplicates: flagged on every door, never dropped or merged -------------------------


def test_a_possible_duplicate_is_stored_and_held_for_review_on_every_door(
    door, reviewer, client, tmp_path, hsi_with_prices
):
    original = send("csv_command", [ROW], reviewer, client, tmp_path).stored[0]
    copy = {
        **ROW,
        "url": "https://syndicated.example/hsi",
        "target": "25100",
        "quote": "HSI to 25,100 by June",
    }
    outcome = send(door, [copy], reviewer, client, tmp_path)
    assert not outcome.fields, outcome.text[:2000]
    (held,) = outcome.stored
    assert held.possible_duplicate_of == original and held.published_at is None
    assert "possibly the same call" in held.events.get(action="created").reason


# --- random rows: stored whole or refused naming a field, never half-written ---------------------

NUMBERS = st.one_of(
    st.sampled_from(["", "25000", "-5", "1e300", "nan", "inf", "true", "23,200", "0", "abc", "1e-300"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
TEXT = st.one_of(
    st.sampled_from(["Ann Lee", "", " ", "\u200b", "顏子琪", "A\u202eB", "x" * 300, "\x00"]),
    st.text(max_size=20),
)
ROWS = st.fixed_dictionaries(
    {
        "strategist": TEXT,
        "quote": TEXT,
        "kind": st.sampled_from(["reach", "close_above", "range", "move_pct", "manual", "moon"]),
        "target": NUMBERS,
        "target_upper": NUMBERS,
        "published": st.sampled_from(["2025-02-14", "1999-01-01", "2999-01-01", "14/02/2025", ""]),
        "url": st.sampled_from(
            ["fresh", "javascript:x", "ftp://a.b/c", "", "https://ok.example/" + "a" * 990]
        ),
        "deadline": st.sampled_from(["", "2025-12-31", "2025-01-01", "2031-01-01", "soon"]),
        "deadline_source": st.sampled_from(["", "stated", "implied", "none", "maybe"]),
    }
)


@pytest.mark.parametrize("door_name", ARTICLE_DOORS)
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=ROWS, n=st.uuids())
def test_random_rows_are_stored_whole_or_refused_by_field(
    door_name, changes, n, reviewer, client, tmp_path, hsi_with_prices
):
    row = {**ROW, **changes}
    if row["url"] == "fresh":  # a new article each example, so nothing is "already recorded"
        row["url"] = f"https://paper.example/{n}"
    counts = (Forecast.all_objects.count(), Source.objects.count(), ForecastEvent.objects.count())
    outcome = send(door_name, [row], reviewer, client, tmp_path)
    if outcome.stored:
        assert not outcome.fields
        (f,) = outcome.stored
        assert f.events.filter(action="created").count() == 1 and f.source.url
    else:
        assert outcome.fields, outcome.text[:2000]  # a refusal names at least one field
        assert (Forecast.all_objects.count(), Source.objects.count(), ForecastEvent.objects.count()) == counts


CLAIMS = st.fixed_dictionaries(
    {
        "quote": TEXT,
        "kind": st.sampled_from(["reach", "close_above", "range", "move_pct", "manual", "moon"]),
        "target": NUMBERS,
        "target_upper": NUMBERS,
        "deadline": st.sampled_from(["", "2025-12-31", "2025-01-01", "2031-01-01", "soon"]),
        "deadline_source": st.sampled_from(["", "stated", "implied", "none", "maybe"]),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=CLAIMS)
def test_random_claims_through_the_admin_add_form_are_stored_whole_or_refused_by_field(
    changes, reviewer, client, tmp_path, hsi_with_prices
):
    """The admin add form takes the claim only (source and strategist are picked from the records)."""
    send("admin_add", [{**ROW, "kind": "direction_up", "target": ""}], reviewer, client, tmp_path)  # setup
    counts = (Forecast.all_objects.count(), Source.objects.count(), ForecastEvent.objects.count())
    outcome = send("admin_add", [{**ROW, **changes}], reviewer, client, tmp_path)
    if outcome.stored:
        (f,) = outcome.stored
        assert not outcome.fields and f.events.filter(action="created").count() == 1
    else:
        # Refused naming a field, or the very claim already recorded: either way nothing new was written.
        assert (Forecast.all_objects.count(), Source.objects.count(), ForecastEvent.objects.count()) == counts


def test_the_database_refuses_the_same_claim_twice_with_nulls_equal(hsi_with_prices):
    """Behind the service, PostgreSQL holds the identity too: NULL targets count as equal."""
    from django.db import IntegrityError, connection, transaction

    from tests.conftest import require_service

    require_service("PostgreSQL", connection.vendor == "postgresql")
    first = (
        record_source(
            SourceInput(url=ROW["url"], publication="P", published="2025-02-14"),
            [ForecastInput(strategist="Ann Lee", quote="up", instrument="HSI", kind="direction_up")],
        )
        .items[0]
        .forecast
    )
    twin = {f.name: getattr(first, f.name) for f in Forecast._meta.concrete_fields if f.name != "id"}
    twin["quote"] = "another sentence, the same claim"
    with pytest.raises(IntegrityError), transaction.atomic():
        Forecast.all_objects.create(**twin)
    twin["deadline"] = first.deadline + timedelta(days=1)  # another claim: allowed
    assert Forecast.all_objects.create(**twin).pk


# --- the page cache sees every door -----------------------------------------------------------------


def test_every_door_moves_the_data_version_after_commit(
    transactional_db, door, reviewer, client, tmp_path, hsi_with_prices
):
    """Public pages are cached whole under the data version: a forecast recorded through any door must
    move it once its transaction commits, or readers would keep seeing the page without it."""
    from forecasts.services import aggregates, dataversion

    before = dataversion.current()
    time.sleep(0.002)
    outcome = send(door, [ROW], reviewer, client, tmp_path)  # real commits: no test transaction around
    assert outcome.stored, outcome.text[:2000]
    assert dataversion.current() > before
    # ... and the boards' precomputed aggregates agree with the forecasts.
    assert aggregates.check() == []


def test_every_door_scores_what_it_records(
    transactional_db, door, reviewer, client, tmp_path, hsi_with_prices
):
    """Recording queues the (incremental, coalesced) rescore of its instrument after the commit whichever door
    it came through; with tasks run in-process, the new forecast is decided by the time the door answers."""
    from forecasts.models import Status

    outcome = send(door, [ROW], reviewer, client, tmp_path)  # real commits: the queued task runs
    assert outcome.stored, outcome.text[:2000]
    recorded = Forecast.all_objects.filter(source__url=ROW["url"], target=25000).get()
    assert recorded.scored_at is not None
    assert recorded.status in (Status.HIT, Status.MISS)  # its window ended 2025-06-30, the bars cover it
