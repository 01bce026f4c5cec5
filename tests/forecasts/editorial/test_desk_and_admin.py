"""The admin: the editor's desk, CSV import/export with preview, roles and locked claims."""

import contextlib
import csv
import http.server
import io
import re
import threading
import time
from dataclasses import replace

import pytest
from django.contrib.auth.models import Group

from forecasts.models import Forecast, ForecastEvent, LedgerEntry, Source
from tests.paths import DEMO_CSV, FIXTURES

pytestmark = pytest.mark.django_db

DEMO = DEMO_CSV
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


def test_desk_saves_source_and_forecast_and_scores_it(
    editor_client, hsi_with_prices, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # scoring is queued once the save commits
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


def test_desk_stores_two_claims_of_one_sentence_and_flags_a_copy_elsewhere(
    reviewer_client, hsi_with_prices, seed_forecast
):
    # The same claim from the same source is the same record: saving it again stores nothing new.
    response = _post_save(reviewer_client, _candidate())
    assert response.status_code == 302 and Forecast.all_objects.count() == 1
    assert "already recorded" in reviewer_client.get(response["Location"]).content.decode()
    # A second claim in the same quote (another target) is another forecast, published at once.
    response = _post_save(
        reviewer_client, _candidate(target="25000", deadline="2025-12-31", deadline_source="stated")
    )
    assert response.status_code == 302 and Forecast.objects.count() == 2
    # A syndicated copy elsewhere: stored, flagged and held for review, never dropped or merged ...
    syndicated = {**ARTICLE, "url": "https://syndicated.example/604533"}
    response = _post_save(reviewer_client, _candidate(target="23250"), article=syndicated)
    assert response.status_code == 302
    held = Forecast.all_objects.get(source__url=syndicated["url"])
    assert held.possible_duplicate_of == seed_forecast and held.published_at is None
    assert "possible duplicate of #" in reviewer_client.get(response["Location"]).content.decode()
    # ... unless the editor says it is a separate call.
    other = {**ARTICLE, "url": "https://other.example/604533"}
    response = _post_save(
        reviewer_client, _candidate(target="23250", same_call_confirmed="on"), article=other
    )
    assert response.status_code == 302
    assert Forecast.objects.filter(source__url=other["url"], possible_duplicate_of=None).count() == 1


def test_desk_validates_the_article(editor_client):
    response = editor_client.post(
        "/admin/forecasts/source/desk/", {**ARTICLE, "text": "", "published": "14/02/2025", "analyse": "1"}
    )
    html = response.content.decode()
    assert "Paste the article" in html and "use a date (2025-02-14)" in html


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
    # The menu does not offer what the role cannot do, and posting it anyway changes nothing.
    changelist = editor_client.get("/admin/forecasts/forecast/")
    assert "void_selected" not in changelist.content.decode()
    editor_client.post("/admin/forecasts/forecast/", data)
    seed_forecast.refresh_from_db()
    assert seed_forecast.status != "void"
    reviewer_client.force_login(django_user_model.objects.get(username="rita"))
    assert reviewer_client.post("/admin/forecasts/forecast/", data).status_code == 302
    seed_forecast.refresh_from_db()
    assert seed_forecast.status == "void" and seed_forecast.void_reason == "Editor: Misquote"
    assert LedgerEntry.objects.filter(forecast=seed_forecast, action="voided").exists()


def test_correction_through_the_admin_needs_a_reason(reviewer_client, seed_forecast):
    editor_client = reviewer_client
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
    assert event.actor.username == "rita" and event.reason == "Article says 24,000"


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
    rows = len(list(csv.DictReader(io.StringIO(DEMO.read_text(encoding="utf-8")))))
    assert f"Dry run: {rows} rows; {rows} forecast(s) would be created" in page
    assert not Forecast.all_objects.exists()  # nothing saved by the preview
    content = DEMO.read_text(encoding="utf-8")
    response = admin_client.post(
        "/admin/forecasts/forecast/import-csv/", {"content": content, "confirm": "1"}
    )
    assert response.status_code == 200 and Forecast.objects.count() == rows


def test_csv_import_shows_row_errors(admin_client):
    bad = io.BytesIO(
        b"strategist,publication,url,published,quote,instrument,kind,target\n"
        b"A,P,https://x.example/1,2025-02-14,q,HSI,reach,abc\n"
    )
    bad.name = "bad.csv"
    page = admin_client.post("/admin/forecasts/forecast/import-csv/", {"file": bad}).content.decode()
    assert "row 2, column target" in page and "nothing was saved" in page


def test_csv_export_round_trips(admin_client):
    from forecasts.editorial.importers import import_forecasts

    import_forecasts(DEMO.read_bytes())
    ids = list(Forecast.objects.values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/forecasts/forecast/", {"action": "export_csv", "_selected_action": ids}
    )
    exported = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == len(ids) == len(list(csv.DictReader(io.StringIO(DEMO.read_text(encoding="utf-8")))))
    ngan = next(r for r in rows if r["strategist"] == "Alvin Ngan")
    assert (ngan["published"], ngan["target"], ngan["deadline"], ngan["deadline_source"]) == (
        "2025-02-14",
        "23200",
        "",
        "none",
    )
    result = import_forecasts(exported)
    assert (result.created, result.existing) == (0, len(ids))


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


def test_admin_add_form_records_validates_and_scores(
    admin_client, hsi_with_prices, seed_forecast, django_capture_on_commit_callbacks
):
    data = {
        "strategist": seed_forecast.strategist_id, "source": seed_forecast.source_id,
        "quote": "the HSI may revisit 21,000", "instrument": hsi_with_prices.pk, "kind": "reach",
        "target": "-1", "basis": "close", "made_at_0": "2025-02-14", "made_at_1": "08:00:00",
        "deadline": "2025-12-31", "deadline_source": "stated",
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",  # the history inline's management form
    }  # fmt: skip
    page = admin_client.post("/admin/forecasts/forecast/add/", data).content.decode()
    assert "The target must be greater than 0." in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/forecasts/forecast/add/", {**data, "target": "21000"})
    assert response.status_code == 302
    f = Forecast.objects.get(quote="the HSI may revisit 21,000")
    assert f.created_by.username == "admin" and f.published_at is not None  # a superuser publishes
    assert f.status == "hit"  # scored through the same queue as every other entry path


# ------------------------------------------------------------------- the desk's suggestions: why, ticks, URL

FIXTURE_HTML = FIXTURES / "html" / "desk_article.html"
FETCHED = {
    "url": "https://markets.example.com/hk/article/20250303-hang-seng-targets",
    "publication": "",
    "title": "",
    "published": "",
    "language": "en",
    "text": "",
    "html": "",
}


def _analysed_rows(response):
    return [f.initial for f in response.context["formset"].forms if f.initial]


def test_desk_shows_why_and_pre_ticks_only_confident_attributed_numeric_claims(editor_client, hsi):
    article = {
        **ARTICLE,
        "text": "",
        "html": FIXTURE_HTML.read_text(encoding="utf-8"),
        "published": "2025-03-03",
    }
    response = editor_client.post("/admin/forecasts/source/desk/", {**article, "analyse": "1"})
    assert response.status_code == 200
    rows = _analysed_rows(response)
    assert [(r["strategist"], r["kind"], r["target"], r["accept"]) for r in rows] == [
        # a person, a level, a cue: ticked ("reach 25,000 by the end of June": a level at the end of a
        # period is a closing claim, as the annotated corpus records it; the cue stays "reach")
        ("Alvin Ngan", "close_above", 25000.0, True),
        ("Goldman Sachs (strategists)", "close_above", 26000.0, True),  # a firm's call, the CSV convention
        ("median of 40 strategists polled by Reuters", "close_above", 24500.0, False),  # consensus
        ("Analysts", "direction_up", None, False),  # qualitative, unnamed group
    ]
    assert response.context["ticked"] == 2
    html = response.content.decode()
    # every suggestion says why: the cue, the speaker evidence, the deadline phrase and the confidence
    why = [f.why() for f in response.context["formset"].forms]
    assert why[-1] is None  # the blank row for a hand-added forecast
    assert (why[0]["cue"], why[0]["speaker"], why[0]["deadline_phrase"], why[0]["confidence"]) == (
        "reach",
        "named in sentence",
        "by the end of June",
        "0.90",
    )
    assert (
        'cue <q class="cue">reach</q>' in html and '<q class="deadline-phrase">by the end of June</q>' in html
    )
    assert "firm only (named in sentence)" in html
    assert 'Revision: replaces an earlier target of <span class="superseded">24,000</span>' in html
    assert "No person named: strategist prefilled as &quot;Goldman Sachs (strategists)&quot;" in html
    assert "Group / consensus: <q>median of 40 strategists polled by Reuters</q>" in html
    assert "Not pre-ticked: qualitative (no level)" in html
    assert "Not pre-ticked: no person or firm named" in html
    for i, ticked in enumerate([True, True, False, False, False]):
        box = re.search(rf'<input type="checkbox" name="c-{i}-accept"[^>]*>', html).group(0)
        assert ("checked" in box) is ticked, box


def test_pre_ticked_needs_confidence_a_level_and_a_speaker():
    from forecasts.editorial.desk import pre_ticked
    from forecasts.extraction import Candidate

    base = Candidate(
        strategist="Alvin Ngan", firm=None, quote="q", instrument="HSI", kind="reach", target=25000.0,
        target_upper=None, deadline=None, deadline_source="none", hedge="could", start=0, end=1,
        confidence=0.7,
    )  # fmt: skip
    assert pre_ticked(base)
    assert pre_ticked(replace(base, strategist=None, firm="Nomura"))
    assert not pre_ticked(replace(base, confidence=0.69))
    assert not pre_ticked(replace(base, kind="manual", target=None))
    assert not pre_ticked(replace(base, kind="direction_up", target=None))
    assert not pre_ticked(replace(base, strategist=None, group="analysts polled by Reuters"))


def test_desk_proposes_the_strategists_open_call_as_the_one_revised(editor_client, hsi_with_prices):
    """An open (pending) call by the same strategist on the instrument is offered; when the sentence reads as
    a revision ("raised its target to 26,000 from 24,000") it comes preselected, and saving links the two."""
    from forecasts.services.recording import ForecastInput, SourceInput, record_source

    def open_call(name, target, url):
        source = SourceInput(url=url, publication="Earlier", published="2025-01-10")
        item = ForecastInput(
            strategist=name, quote=f"{target}", instrument="HSI", kind="close_above", target=target
        )
        return record_source(source, [item]).items[0].forecast

    goldman = open_call("Goldman Sachs (strategists)", 24000, "https://earlier.example/gs")
    alvin = open_call("Alvin Ngan", 21000, "https://earlier.example/alvin")
    article = {
        **ARTICLE,
        "text": "",
        "html": FIXTURE_HTML.read_text(encoding="utf-8"),
        "published": "2025-03-03",
    }
    response = editor_client.post("/admin/forecasts/source/desk/", {**article, "analyse": "1"})
    forms = {f.initial["strategist"]: f for f in response.context["formset"].forms if f.initial}
    gs, an = forms["Goldman Sachs (strategists)"], forms["Alvin Ngan"]
    assert gs.initial["supersedes"] == goldman.pk  # a revision: preselected
    assert [c["id"] for c in gs.why()["open_calls"]] == [goldman.pk]
    assert an.initial["supersedes"] is None  # no revision cue: offered, not chosen
    assert any(f"#{alvin.pk} (21,000, 2025-01-10)" in note for note in an.why()["notes"])
    html = response.content.decode()
    assert f'name="c-1-supersedes" value="{goldman.pk}"' in html
    # Saving the preselected row records the link (through the recording service).
    row = {k.split("-", 2)[2]: v for k, v in _candidate(**{"strategist": "x"}).items()}
    row.update(
        strategist="Goldman Sachs (strategists)", firm="", kind="close_above", target="26000",
        quote="Goldman Sachs raised its Hang Seng Index target to 26,000 from 24,000", hedge="",
        supersedes=str(goldman.pk),
    )  # fmt: skip
    saved = _post_save(editor_client, _candidate(**row), article={**ARTICLE, "published": "2025-03-03"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    revision = Forecast.all_objects.get(supersedes=goldman)
    assert revision.target == 26000 and revision.strategist == goldman.strategist


def test_desk_keeps_the_evidence_through_a_refused_save(editor_client, hsi_with_prices):
    evidence = '{"cue": "reach", "speaker": "named in sentence", "deadline_phrase": "", "confidence": "0.90"}'
    response = _post_save(editor_client, _candidate(evidence=evidence, target="-3"))
    html = response.content.decode()
    assert response.status_code == 200 and "The target must be greater than 0." in html
    assert 'cue <q class="cue">reach</q>' in html and not Source.objects.exists()


def test_desk_fetches_a_url_and_fills_the_article_from_the_page(editor_client, hsi, monkeypatch):
    from forecasts.editorial import fetching

    asked = []

    def fake_fetch(url, **kwargs):
        asked.append((url, kwargs))
        html = FIXTURE_HTML.read_text(encoding="utf-8")
        return fetching.FetchedPage(url, url, 200, "text/html", "utf-8", html, len(html))

    monkeypatch.setattr(fetching, "fetch_page", fake_fetch)
    response = editor_client.post("/admin/forecasts/source/desk/", {**FETCHED, "fetch": "1"})
    assert response.status_code == 200 and asked == [(FETCHED["url"], {"allow_private": False})]
    initial = response.context["article"].initial
    assert (initial["title"], initial["publication"], initial["published"]) == (
        "Brokers split on how far Hong Kong's rally can run",
        "Harbour Markets Daily",
        "2025-03-03",
    )  # from the page's metadata, as the fields were blank
    assert "Alvin Ngan, a strategist at Zhongtai" in initial["text"] and "Privacy" not in initial["text"]
    assert "Subscribe" not in initial["text"] and initial["html"] == ""
    assert [r["target"] for r in _analysed_rows(response)] == [25000.0, 26000.0, 24500.0, None]
    assert response.context["fetched"] == FETCHED["url"]
    # what the editor typed is kept
    response = editor_client.post(
        "/admin/forecasts/source/desk/", {**FETCHED, "publication": "HMD", "fetch": "1"}
    )
    assert response.context["article"].initial["publication"] == "HMD"


def test_desk_shows_fetch_errors_on_the_form(editor_client, monkeypatch):
    from forecasts.editorial import fetching

    def failing(url, **kwargs):
        raise fetching.FetchError("The page answered 404 Not Found.")

    monkeypatch.setattr(fetching, "fetch_page", failing)
    response = editor_client.post("/admin/forecasts/source/desk/", {**FETCHED, "fetch": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "formset" not in response.context
    assert f"Could not fetch {FETCHED['url']}: The page answered 404 Not Found." in html
    assert 'id="fetch-error"' in html
    # the real check on the address, before any connection
    monkeypatch.undo()
    response = editor_client.post(
        "/admin/forecasts/source/desk/", {**FETCHED, "url": "file:///etc/passwd", "fetch": "1"}
    )
    assert "Only http:// and https:// addresses can be fetched." in response.content.decode()
    response = editor_client.post(
        "/admin/forecasts/source/desk/", {**FETCHED, "url": "http://127.0.0.1/admin/", "fetch": "1"}
    )
    assert "is on a private or local network; not fetched." in response.content.decode()


# ---------------------------------------------------------------- fetching: a local server with recorded HTML


class _Pages(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes (no Content-Length needed)

    def log_message(self, *args):  # keep the test output quiet
        pass

    def _send(self, status, body: bytes, content_type="text/html; charset=utf-8", length=True, **headers):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        page = FIXTURE_HTML.read_bytes()
        if self.path == "/article":
            self._send(200, page)
        elif self.path == "/big5":
            body = '<html><head><meta charset="big5"></head><body><p>恆指上望25000點</p></body></html>'
            self._send(200, body.encode("big5"), content_type="text/html")
        elif self.path == "/stream":  # no Content-Length: the limit is enforced while reading
            self._send(200, page * 1000, length=False)
        elif self.path == "/pdf":
            self._send(200, b"%PDF-1.4", content_type="application/pdf")
        elif self.path == "/moved":
            self._send(302, b"", Location="/article")
        elif self.path == "/elsewhere":
            self._send(302, b"", Location="ftp://files.example/article")
        elif self.path == "/drip":  # each read is quick, the whole download is not
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                for _ in range(30):
                    self.wfile.write(b"<p>" + b"x" * 100 + b"</p>\n")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
                pass
        else:
            self._send(404, b"<h1>Not found</h1>")


@pytest.fixture
def pages():
    with serve_pages() as base:
        yield base


@contextlib.contextmanager
def serve_pages():
    """The recorded pages on a local http.server (loopback only, which pytest-socket allows)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_page_reads_recorded_html_and_refuses_what_it_should(pages):
    from forecasts.editorial.fetching import FetchError, fetch_page

    page = fetch_page(f"{pages}/article", allow_private=True)
    assert (page.status, page.content_type, page.encoding) == (200, "text/html", "utf-8")
    assert page.html == FIXTURE_HTML.read_text(encoding="utf-8")
    assert fetch_page(f"{pages}/moved", allow_private=True).final_url == f"{pages}/article"
    assert "恆指上望25000點" in fetch_page(f"{pages}/big5", allow_private=True).html  # the page's own charset
    cases = {
        "/missing": "The page answered 404 Not Found.",
        "/pdf": "The address is not an HTML page (it is application/pdf).",
        "/elsewhere": "Only http:// and https:// addresses can be fetched.",
    }
    for path, message in cases.items():
        with pytest.raises(FetchError) as caught:
            fetch_page(pages + path, allow_private=True)
        assert str(caught.value) == message
    with pytest.raises(FetchError, match=r"^The page is larger than 2 KB \(3 KB\); not fetched.$"):
        fetch_page(f"{pages}/article", allow_private=True, max_bytes=2048)  # refused on its header
    with pytest.raises(FetchError, match=r"^The page is larger than 2 MB; not fetched\.$"):
        fetch_page(f"{pages}/stream", allow_private=True)  # refused while reading (no Content-Length)
    with pytest.raises(FetchError, match=r"The page did not arrive within 0.5 seconds."):
        fetch_page(f"{pages}/drip", allow_private=True, timeout=0.5)
    with pytest.raises(FetchError, match="private or local network"):
        fetch_page(f"{pages}/article")  # loopback is refused unless allowed
    with pytest.raises(FetchError, match="Only http:// and https://"):
        fetch_page("javascript:alert(1)")


def test_desk_fetches_through_the_network_from_a_local_server(editor_client, hsi, pages, settings):
    settings.HINDSIGHT_DESK_FETCH_ALLOW_PRIVATE = True  # the test server is on loopback
    response = editor_client.post(
        "/admin/forecasts/source/desk/", {**FETCHED, "url": f"{pages}/article", "fetch": "1"}
    )
    assert response.status_code == 200 and response.context["found"] == 4
    assert response.context["article"].initial["url"] == f"{pages}/article"
    response = editor_client.post(
        "/admin/forecasts/source/desk/", {**FETCHED, "url": f"{pages}/gone", "fetch": "1"}
    )
    assert "The page answered 404 Not Found." in response.content.decode()
