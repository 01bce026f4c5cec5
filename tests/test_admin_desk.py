"""The admin: the editor's desk, CSV import/export with preview, roles and locked claims."""

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from forecasts.models import Forecast, ForecastEvent, LedgerEntry, Source

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parent.parent / "forecasts" / "demo" / "forecasts.csv"
SEED_TEXT = (
    "Hong Kong stocks rallied on Friday, with the Hang Seng Index closing at its highest level in four "
    "months. Alvin Ngan, a strategist at Zhongtai Financial International, said the HSI could reclaim last "
    "year's peak of around 23,200 points. Kenny Ng, a securities strategist at Everbright Securities "
    "International, said the rally was driven by optimism over artificial intelligence."
)
ARTICLE = {
    "url": "https://www.chinadailyhk.com/hk/article/604533",
    "publication": "China Daily HK",
    "title": "Hong Kong stocks rallied on Friday",
    "published": "2025-02-14",
    "language": "en",
    "text": SEED_TEXT,
    "html": "",
}


def _user(django_user_model, name, group):
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor_client(client, django_user_model):
    client.force_login(_user(django_user_model, "eddie", "Editors"))
    return client


@pytest.fixture
def reviewer_client(client, django_user_model):
    client.force_login(_user(django_user_model, "rita", "Reviewers"))
    return client


def _candidate(i=0, **row):
    base = {
        "accept": "on",
        "strategist": "Alvin Ngan",
        "firm": "Zhongtai Financial International",
        "quote": "the HSI could reclaim last year's peak of around 23,200 points",
        "instrument": "HSI",
        "kind": "reach",
        "target": "23200",
        "target_upper": "",
        "other_instrument": "",
        "deadline": "",
        "deadline_source": "none",
        "hedge": "could",
    }
    return {f"c-{i}-{k}": v for k, v in {**base, **row}.items() if v is not None}


def _post_save(client, *rows, article=ARTICLE):
    data = {
        **article,
        "save": "1",
        "c-TOTAL_FORMS": str(len(rows)),
        "c-INITIAL_FORMS": "0",
        "c-MIN_NUM_FORMS": "0",
        "c-MAX_NUM_FORMS": "50",
    }
    for row in rows:
        data.update(row)
    return client.post("/admin/forecasts/source/desk/", data)


def test_desk_saves_source_and_forecast_and_scores_it(editor_client, hsi_with_prices):
    response = _post_save(editor_client, _candidate())
    assert response.status_code == 302, response.content.decode()[:2000]
    source = Source.objects.get(url=ARTICLE["url"])
    assert source.article_text == SEED_TEXT and len(source.text_sha256) == 64
    f = Forecast.all_objects.get(source=source)
    assert f.published_at is None  # an editor's forecast waits for a reviewer
    assert (f.status, str(f.resolved_on)) == ("hit", "2025-02-21")
    assert f.created_by.username == "eddie"
    done = editor_client.get(response["Location"]).content.decode()
    assert "draft awaiting review" in done and "2025-02-21" in done


def test_desk_is_all_or_nothing_with_errors_on_the_row(editor_client, hsi_with_prices):
    response = _post_save(
        editor_client,
        _candidate(0),
        _candidate(1, strategist="Someone Else", target="-3"),
        _candidate(2, strategist="Third Person", instrument="XYZ"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The target must be greater than 0." in html
    assert "Unknown instrument &#x27;XYZ&#x27;" in html
    assert not Source.objects.exists() and not Forecast.all_objects.exists()


def test_desk_flags_a_likely_duplicate(reviewer_client, hsi_with_prices, seed_forecast):
    # The same quote from the same source is the same record.
    response = _post_save(reviewer_client, _candidate(target="23250", same_call_confirmed="on"))
    assert "already recorded from this source as #" in response.content.decode()
    # A syndicated copy elsewhere: flagged, then saved once the editor confirms.
    syndicated = {**ARTICLE, "url": "https://syndicated.example/604533"}
    response = _post_save(reviewer_client, _candidate(target="23250"), article=syndicated)
    assert "Looks like a forecast already recorded" in response.content.decode()
    response = _post_save(
        reviewer_client, _candidate(target="23250", same_call_confirmed="on"), article=syndicated
    )
    assert response.status_code == 302
    assert Forecast.objects.count() == 2  # reviewer's forecasts are published at once


def test_desk_validates_the_article(editor_client):
    response = editor_client.post(
        "/admin/forecasts/source/desk/", {**ARTICLE, "text": "", "published": "14/02/2025", "analyse": "1"}
    )
    html = response.content.decode()
    assert "Paste the article" in html and "Not a date: use YYYY-MM-DD." in html


def test_editor_cannot_void_but_reviewer_can(
    editor_client, reviewer_client, django_user_model, seed_forecast
):
    data = {
        "action": "void_selected",
        "_selected_action": [seed_forecast.pk],
        "apply": "1",
        "reason": "Misquote",
    }
    editor = django_user_model.objects.get(username="eddie")
    editor_client.force_login(editor)
    assert editor_client.post("/admin/forecasts/forecast/", data).status_code == 403
    reviewer_client.force_login(django_user_model.objects.get(username="rita"))
    assert reviewer_client.post("/admin/forecasts/forecast/", data).status_code == 302
    seed_forecast.refresh_from_db()
    assert seed_forecast.status == "void" and seed_forecast.void_reason == "Editor: Misquote"
    assert LedgerEntry.objects.filter(forecast=seed_forecast, action="voided").exists()


def test_correction_through_the_admin_needs_a_reason(editor_client, seed_forecast):
    url = "/admin/forecasts/forecast/"
    base = {
        "action": "correct_selected",
        "_selected_action": [seed_forecast.pk],
        "apply": "1",
        "target": "24000",
    }
    page = editor_client.post(url, base).content.decode()
    assert "This field is required" in page
    assert editor_client.post(url, {**base, "reason": "Article says 24,000"}).status_code == 302
    seed_forecast.refresh_from_db()
    assert seed_forecast.target == 24000
    event = ForecastEvent.objects.get(forecast=seed_forecast, action="corrected")
    assert event.actor.username == "eddie" and event.reason == "Article says 24,000"


def test_claim_is_read_only_once_recorded(admin_client, seed_forecast):
    page = admin_client.get(f"/admin/forecasts/forecast/{seed_forecast.pk}/change/").content.decode()
    assert 'name="target"' not in page and "23200" in page
    admin_client.post(f"/admin/forecasts/forecast/{seed_forecast.pk}/change/", {"target": "1"})
    seed_forecast.refresh_from_db()
    assert seed_forecast.target == 23200


def test_csv_import_preview_then_confirm(admin_client):
    upload = io.BytesIO(DEMO.read_bytes())
    upload.name = "forecasts.csv"
    page = admin_client.post("/admin/forecasts/forecast/import-csv/", {"file": upload}).content.decode()
    assert "Dry run: 23 rows; 23 forecast(s) would be created" in page
    assert not Forecast.all_objects.exists()  # nothing saved by the preview
    content = DEMO.read_text(encoding="utf-8")
    response = admin_client.post(
        "/admin/forecasts/forecast/import-csv/", {"content": content, "confirm": "1"}
    )
    assert response.status_code == 200 and Forecast.objects.count() == 23


def test_csv_import_shows_row_errors(admin_client):
    bad = io.BytesIO(
        b"strategist,publication,url,published,quote,instrument,kind,target\n"
        b"A,P,https://x.example/1,2025-02-14,q,HSI,reach,abc\n"
    )
    bad.name = "bad.csv"
    page = admin_client.post("/admin/forecasts/forecast/import-csv/", {"file": bad}).content.decode()
    assert "row 2, column target" in page and "nothing was saved" in page


def test_csv_export_round_trips(admin_client):
    from forecasts.importers import import_forecasts

    import_forecasts(DEMO.read_bytes())
    ids = list(Forecast.objects.values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/forecasts/forecast/", {"action": "export_csv", "_selected_action": ids}
    )
    exported = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 23
    ngan = next(r for r in rows if r["strategist"] == "Alvin Ngan")
    assert (ngan["published"], ngan["target"], ngan["deadline"], ngan["deadline_source"]) == (
        "2025-02-14",
        "23200",
        "",
        "none",
    )
    result = import_forecasts(exported)
    assert (result.created, result.existing) == (0, 23)


def test_desk_analyse_suggests_the_seed_forecast_and_not_kenny_ng(editor_client, hsi):
    response = editor_client.post("/admin/forecasts/source/desk/", {**ARTICLE, "analyse": "1"})
    assert response.status_code == 200
    formset = response.context["formset"]
    rows = [f.initial for f in formset.forms if f.initial]
    assert [
        (r["strategist"], r["instrument"], r["kind"], r["target"], r["deadline_source"]) for r in rows
    ] == [("Alvin Ngan", "HSI", "reach", 23200.0, "none")]
    assert rows[0]["firm"] == "Zhongtai Financial International" and rows[0]["hedge"] == "could"
    assert response.context["sha256"] == __import__("hashlib").sha256(SEED_TEXT.encode()).hexdigest()


def test_desk_extracts_text_from_html(editor_client, hsi):
    html = f"<html><body><nav>Menu</nav><article><h1>Stocks</h1><p>{SEED_TEXT}</p></article></body></html>"
    response = editor_client.post(
        "/admin/forecasts/source/desk/", {**ARTICLE, "text": "", "html": html, "analyse": "1"}
    )
    assert response.status_code == 200
    assert "Alvin Ngan" in response.context["article"].initial["text"]
    assert response.context["found"] == 1


def test_admin_add_form_records_validates_and_scores(admin_client, hsi_with_prices, seed_forecast):
    data = {
        "strategist": seed_forecast.strategist_id, "source": seed_forecast.source_id,
        "quote": "the HSI may revisit 21,000", "instrument": hsi_with_prices.pk, "kind": "reach",
        "target": "-1", "basis": "close", "made_at_0": "2025-02-15", "made_at_1": "00:00:00",
        "deadline": "2025-12-31", "deadline_source": "stated",
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",  # the history inline's management form
    }  # fmt: skip
    page = admin_client.post("/admin/forecasts/forecast/add/", data).content.decode()
    assert "The target must be greater than 0." in page
    response = admin_client.post("/admin/forecasts/forecast/add/", {**data, "target": "21000"})
    assert response.status_code == 302
    f = Forecast.objects.get(quote="the HSI may revisit 21,000")
    assert f.created_by.username == "admin" and f.published_at is not None  # a superuser publishes
    assert f.status == "hit"  # scored through the same queue as every other entry path
