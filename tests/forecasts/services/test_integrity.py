"""Published claims are never silently rewritten: the ledger, publishing, roles, duplicates, aliases."""

import itertools
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from forecasts import ledger, services
from forecasts.models import Alias, Forecast, LedgerEntry
from tests.factories import InstrumentFactory, SourceFactory, StrategistFactory, make_forecast

pytestmark = pytest.mark.django_db


def verify_output() -> str:
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    return out.getvalue()


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user("rita", password="x")
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


def test_publishing_chains_each_claim(reviewer):
    a = make_forecast(instrument=InstrumentFactory(), target=100.0)
    b = make_forecast(instrument=InstrumentFactory(), target=200.0)
    services.forecast_correct(a, changes={"target": 110.0}, reason="Article says 110", actor=reviewer)
    services.forecast_void(b, reason="Misquote", actor=reviewer)
    entries = list(LedgerEntry.objects.order_by("seq"))
    assert [(e.seq, e.forecast_id, e.action) for e in entries] == [
        (1, a.pk, "published"),
        (2, b.pk, "published"),
        (3, a.pk, "corrected"),
        (4, b.pk, "voided"),
    ]
    assert entries[0].previous_digest == ledger.GENESIS
    assert all(e.previous_digest == p.digest for p, e in itertools.pairwise(entries))
    assert "ledger OK: 4 entries, 2 published forecasts match" in verify_output()


def test_verify_ledger_catches_a_claim_changed_outside_the_services():
    f = make_forecast(instrument=InstrumentFactory(), target=100.0)
    Forecast.all_objects.filter(pk=f.pk).update(target=150.0)  # bypasses services and ledger
    with pytest.raises(CommandError) as exc:
        verify_output()
    assert f"forecast {f.pk}: target changed outside the record" in str(exc.value)
    assert "target=100.0" in str(exc.value)


def test_verify_ledger_catches_an_edited_or_removed_entry():
    make_forecast(instrument=InstrumentFactory())
    f2 = make_forecast(instrument=InstrumentFactory())
    make_forecast(instrument=InstrumentFactory())
    LedgerEntry.objects.filter(seq=2).update(
        payload=LedgerEntry.objects.get(seq=2).payload.replace("100.0", "1.0")
    )
    with pytest.raises(CommandError, match="entry #2: payload was altered"):
        verify_output()
    LedgerEntry.objects.filter(seq=2).delete()
    with pytest.raises(CommandError) as exc:
        verify_output()
    assert "entry #2 is missing" in str(exc.value)
    assert f"forecast {f2.pk} is published but has no ledger entry" in str(exc.value)


def test_verify_ledger_catches_an_unpublished_forecast():
    f = make_forecast(instrument=InstrumentFactory())
    Forecast.all_objects.filter(pk=f.pk).update(published_at=None)
    with pytest.raises(CommandError, match=f"forecast {f.pk} has ledger entries but is no longer published"):
        verify_output()


def test_drafts_are_scored_but_not_public(reviewer):
    draft = make_forecast(instrument=InstrumentFactory(), publish=False)
    assert not Forecast.objects.filter(pk=draft.pk).exists()
    assert Forecast.all_objects.filter(pk=draft.pk).exists()
    assert not LedgerEntry.objects.exists()
    services.forecast_publish(draft, actor=reviewer)
    draft.refresh_from_db()
    assert draft.published_by == reviewer and Forecast.objects.filter(pk=draft.pk).exists()
    assert LedgerEntry.objects.get().action == "published"
    assert [e.action for e in draft.events.all()] == ["created", "published"]


def test_roles_exist_with_their_permissions(reviewer, django_user_model):
    assert reviewer.has_perm("forecasts.publish_forecast") and reviewer.has_perm("forecasts.void_forecast")
    editor = django_user_model.objects.create_user("ed", password="x")
    editor.groups.add(Group.objects.get(name="Editors"))
    assert editor.has_perm("forecasts.add_forecast") and not editor.has_perm("forecasts.publish_forecast")


def test_possible_duplicates():
    from forecasts.services.recording import possible_duplicates

    inst = InstrumentFactory()
    person = StrategistFactory()
    first = make_forecast(instrument=inst, strategist=person, target=23200.0)
    other = SourceFactory()
    near = {"strategist": person, "instrument": inst, "made_at": first.made_at, "source": other}
    assert possible_duplicates(**near, target=23300.0) == [first]  # within 0.5%
    assert possible_duplicates(**near, target=23400.0) == []  # 0.86% away
    later = {**near, "made_at": first.made_at + timedelta(days=8)}
    assert possible_duplicates(**later, target=23200.0) == []
    # The same source is not a duplicate of itself: two claims in one article are two forecasts.
    assert possible_duplicates(**{**near, "source": first.source}, target=23200.0) == []


def test_aliases_match_names_in_imports():
    hsi = InstrumentFactory(symbol="HSI", calendar_code="XHKG")
    firm = services.firm_get_or_create("Zhongtai Financial International")
    ngan = services.strategist_get_or_create("Alvin Ngan", firm=firm)
    # Bundled instruments get their aliases (恒指 among them) when created; an editor may add more.
    Alias.objects.get_or_create(target="instrument", name="恒指", instrument=hsi)
    Alias.objects.create(target="strategist", name="顏子琪", strategist=ngan)
    Alias.objects.create(target="firm", name="中泰國際", firm=firm)
    assert services.instrument_by_name("恒指") == hsi
    assert services.strategist_get_or_create("顏子琪", firm=None) == ngan
    assert services.firm_get_or_create("中泰國際") == firm


def test_every_record_knows_who_entered_it(django_user_model):
    editor = django_user_model.objects.create_user("ed", password="x")
    f = services.forecast_create(
        strategist=StrategistFactory(),
        source=SourceFactory(),
        quote="q",
        instrument=InstrumentFactory(),
        kind="reach",
        target=5.0,
        actor=editor,
        publish=False,
    )
    assert f.created_by == editor and f.events.get().actor == editor
