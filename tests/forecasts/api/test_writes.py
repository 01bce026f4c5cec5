"""The editors' API: knox tokens, recording a source with its forecasts, corrections and voids."""

import base64
import json

import pytest
from django.contrib.auth import get_user_model
from knox.models import AuthToken

from forecasts.models import Forecast, ForecastEvent, Source, Status
from marketdata.services import get_or_create_instrument

pytestmark = pytest.mark.django_db

SEED_URL = "https://www.chinadailyhk.com/hk/article/604533"


@pytest.fixture(autouse=True)
def _api_errors(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "EXCEPTION_HANDLER": "forecasts.api.errors.exception_handler",
    }
    from django.core.cache import cache

    cache.clear()


def _staff(name: str, group: str):
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(name, password="s3cret-pass", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db):
    return _staff("editor", "Editors")


@pytest.fixture
def reviewer(db):
    return _staff("reviewer", "Reviewers")


@pytest.fixture
def reader(db):
    return get_user_model().objects.create_user("reader", password="s3cret-pass")


def token_for(user) -> str:
    return AuthToken.objects.create(user=user)[1]


@pytest.fixture
def api(client, reviewer):
    """A client sending a reviewer's token (reviewers record and publish, correct and void)."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token_for(reviewer)}"
    return client


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:800]
    return response.json()["error"]


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


# --- tokens --------------------------------------------------------------------------------------


def test_login_with_basic_auth_gives_a_hashed_revocable_token(client, editor):
    basic = base64.b64encode(b"editor:s3cret-pass").decode()
    response = client.post("/api/auth/login/", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "editor" and body["expiry"]
    token = body["token"]
    stored = AuthToken.objects.get(user=editor)
    assert token not in (stored.digest, stored.token_key) and stored.digest  # only a hash is kept
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert client.post("/api/auth/logout/", **auth).status_code == 204
    assert not AuthToken.objects.filter(user=editor).exists()
    assert error_of(client.post("/api/sources/", {}, **auth), 401)["code"] == "authentication_failed"


def test_login_with_username_and_password(client, editor):
    response = post(client, "/api/auth/login/", {"username": "editor", "password": "s3cret-pass"})
    assert response.status_code == 200 and len(response.json()["token"]) > 20


@pytest.mark.parametrize(
    "body", [{"username": "editor", "password": "wrong"}, {"username": "nobody", "password": "x"}]
)
def test_login_refuses_bad_credentials(client, editor, body):
    error = error_of(post(client, "/api/auth/login/", body), 401)
    assert error["message"] == "Invalid username or password."


def test_login_needs_credentials(client, db):
    assert error_of(post(client, "/api/auth/login/", {}), 401)["code"] == "not_authenticated"


def test_logout_all(client, editor):
    token_for(editor)
    token = token_for(editor)
    assert client.post("/api/auth/logoutall/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 204
    assert not AuthToken.objects.filter(user=editor).exists()


def test_an_expired_token_is_refused_and_the_purge_deletes_the_others(client, editor):
    """forecasts.api.auth checks the token it is given, not every token of the user on each request;
    the hourly purge deletes the rest."""
    from datetime import timedelta

    from django.utils import timezone
    from knox.settings import CONSTANTS

    from forecasts.tasks import purge_expired_tokens

    key = lambda token: token[: CONSTANTS.TOKEN_KEY_LENGTH]  # noqa: E731
    live, expired, other_expired = token_for(editor), token_for(editor), token_for(editor)
    past = timezone.now() - timedelta(hours=1)
    AuthToken.objects.filter(token_key__in=[key(expired), key(other_expired)]).update(expiry=past)
    refused = client.get("/api/forecasts/", HTTP_AUTHORIZATION=f"Token {expired}")
    assert refused.status_code == 401
    assert not AuthToken.objects.filter(token_key=key(expired)).exists()
    assert client.get("/api/forecasts/", HTTP_AUTHORIZATION=f"Token {live}").status_code == 200
    assert AuthToken.objects.filter(token_key=key(other_expired)).exists()  # left for the purge
    assert purge_expired_tokens() == 1
    assert list(AuthToken.objects.values_list("token_key", flat=True)) == [key(live)]


@pytest.mark.parametrize("role", ["none", "own", "group", "both", "superuser", "inactive"])
def test_permissions_in_one_query_are_the_model_backends(db, role, django_assert_num_queries):
    """config.auth reads user and group permissions in one query; the answer is ModelBackend's."""
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Group, Permission

    from config.auth import ThrottledModelBackend

    user = get_user_model().objects.create_user(
        "u", is_superuser=role == "superuser", is_active=role != "inactive"
    )
    if role in ("own", "both", "inactive"):
        user.user_permissions.add(Permission.objects.get(codename="view_source"))
    if role in ("group", "both", "inactive"):
        user.groups.add(Group.objects.get(name="Editors"), Group.objects.get(name="Reviewers"))
    expected = ModelBackend().get_all_permissions(get_user_model().objects.get(pk=user.pk))
    fresh = get_user_model().objects.get(pk=user.pk)
    with django_assert_num_queries(0 if role == "inactive" else 1):
        got = ThrottledModelBackend().get_all_permissions(fresh)
        assert ThrottledModelBackend().has_perm(fresh, "forecasts.add_forecast") == (
            "forecasts.add_forecast" in expected and role != "inactive"
        )
    assert got == expected
    assert role in ("none", "inactive") or got


# --- recording a source with its forecasts --------------------------------------------------------

SEED = {
    "url": SEED_URL,
    "publication": "China Daily HK",
    "title": "Hong Kong stocks rallied on Friday",
    "published": "2025-02-14",
    "forecasts": [
        {
            "strategist": "Alvin Ngan",
            "firm": "Zhongtai Financial International",
            "quote": "the HSI could reclaim last year's peak of around 23,200 points",
            "instrument": "HSI",
            "kind": "reach",
            "target": 23200,
        },
        {
            "strategist": "Alvin Ngan",
            "firm": "Zhongtai Financial International",
            "quote": "the index may trade between 21,000 and 24,000 by June",
            "instrument": "HSI",
            "kind": "range",
            "target": 21000,
            "target_upper": 24000,
            "deadline": "2025-06-30",
        },
    ],
}


@pytest.fixture
def hsi_known(db):
    return get_or_create_instrument("HSI")[0]


def test_anonymous_and_non_staff_cannot_write(client, reader, hsi_known):
    assert error_of(post(client, "/api/sources/", SEED), 401)["code"] == "not_authenticated"
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token_for(reader)}"
    assert error_of(post(client, "/api/sources/", SEED), 403)["code"] == "permission_denied"
    assert not Source.objects.exists()


def test_create_a_source_with_its_forecasts(api, reviewer, hsi_known, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(api, "/api/sources/", SEED)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"]["url"] == SEED_URL and len(body["forecasts"]) == 2
    assert body["source"]["published_at"] == "2025-02-14T16:00:00Z"  # the end of the day in Hong Kong
    reach, band = body["forecasts"]
    assert (reach["kind"], reach["deadline_source"], reach["deadline"]) == ("reach", "none", "2026-02-14")
    assert (band["target_upper"], band["deadline_source"]) == (24000.0, "stated")
    assert body["source"]["forecasts"] == [reach["id"], band["id"]]
    for f in Forecast.objects.filter(pk__in=[reach["id"], band["id"]]):
        created = f.events.get(action=ForecastEvent.Action.CREATED)
        assert created.actor == reviewer and f.created_by == reviewer
    assert body["created"] == [True, True] and body["held_for_review"] == [False, False]
    assert len([c for c in callbacks if "send" in c.__qualname__]) == 1  # scoring of HSI, on commit
    # The same article again: each claim is already recorded; nothing new is written.
    again = post(api, "/api/sources/", SEED)
    assert again.status_code == 200 and again.json()["created"] == [False, False]
    assert [f["id"] for f in again.json()["forecasts"]] == [reach["id"], band["id"]]
    assert Forecast.all_objects.count() == 2


@pytest.mark.parametrize("role, budget", [("editor", 43), ("reviewer", 63)])
def test_recording_through_the_api_has_a_query_budget(
    client, request, role, budget, hsi_known, django_assert_max_num_queries
):
    """Two claims of a new strategist at a new firm in a new article: authentication, the recording
    (a reviewer's are published: events, ledger, the boards' figures) and the answer within a budget
    (the counts on PostgreSQL when it was set; SQLite needs two fewer for the reviewer); what the
    answer shows is what a later read of them shows."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token_for(request.getfixturevalue(role))}"
    with django_assert_max_num_queries(budget):
        response = post(client, "/api/sources/", SEED)
    assert response.status_code == 201, response.content
    from rest_framework.renderers import JSONRenderer

    from forecasts.api.serializers import ForecastSerializer

    for shown in response.json()["forecasts"]:
        row = Forecast.all_objects.select_related(
            "strategist", "firm", "source", "instrument", "other_instrument"
        ).get(pk=shown["id"])
        assert json.loads(JSONRenderer().render(ForecastSerializer(row).data)) == shown


def test_all_or_nothing_with_every_error_named(api, hsi_known):
    bad = {
        **SEED,
        "forecasts": [
            SEED["forecasts"][0],
            {**SEED["forecasts"][1], "target_upper": 20000},
            {**SEED["forecasts"][0], "quote": "x", "instrument": "NOPE"},
            {**SEED["forecasts"][0], "quote": "y", "kind": "close_above", "target": -5},
        ],
    }
    error = error_of(post(api, "/api/sources/", bad), 400)
    assert error["fields"] == {
        "forecasts.1.target_upper": ["The upper bound (20000) must be above the lower (21000)."],
        "forecasts.2.instrument": [
            "Unknown instrument 'NOPE': use a symbol or alias Hindsight knows, or add it first."
        ],
        "forecasts.3.target": ["The target must be greater than 0."],
    }
    assert not Source.objects.exists() and not Forecast.all_objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"published": "14/02/2025"}, "published"),
        ({"published": "2025-02-14T16:10"}, "published"),
        ({"url": "not a url"}, "url"),
        ({"forecasts": []}, "forecasts"),
        ({"forecasts": [{"quote": "x"}]}, "forecasts.0.strategist"),
        ({"forecasts": [{**SEED["forecasts"][0], "kind": "moon"}]}, "forecasts.0.kind"),
        ({"forecasts": [{**SEED["forecasts"][0], "deadline": "2999-01-01"}]}, "forecasts.0.deadline"),
        ({"forecasts": [{**SEED["forecasts"][0], "deadline": "2025-02-01"}]}, "forecasts.0.deadline"),
    ],
)
def test_invalid_source_bodies(api, hsi_known, change, field):
    error = error_of(post(api, "/api/sources/", {**SEED, **change}), 400)
    assert field in error["fields"], error


@pytest.mark.parametrize(
    ("url", "content_type"),
    [
        ("/api/sources/", "application/json"),
        ("/api/sources/", "application/x-www-form-urlencoded"),
        ("/api/auth/login/", "application/json"),
        ("/api/no-such-endpoint/", "application/json"),
    ],
)
def test_a_body_over_the_limit_is_413_in_the_error_format(api, hsi_known, settings, url, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    text = "x" * 20_000
    body = (
        f"article_text={text}"
        if content_type.endswith("urlencoded")
        else json.dumps({**SEED, "article_text": text})
    )
    response = api.post(url, body, content_type=content_type)
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == set(error_of(post(api, "/api/sources/", {**SEED, "url": "x"}), 400))
    assert (error["status"], error["code"], error["fields"]) == (413, "request_too_large", {})
    assert "10,000 bytes" in error["message"]
    assert not Source.objects.exists()
    # Under the limit the same body is read as usual.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    assert post(api, "/api/sources/", {**SEED, "article_text": text}).status_code == 201


# --- corrections and voids ------------------------------------------------------------------------


@pytest.fixture
def recorded(api, hsi_known):
    return Forecast.objects.get(pk=post(api, "/api/sources/", SEED).json()["forecasts"][0]["id"])


def test_correct_a_forecast(api, reviewer, recorded):
    body = {"changes": {"target": 23300}, "reason": "The article says 23,300."}
    response = post(api, f"/api/forecasts/{recorded.pk}/correct/", body)
    assert response.status_code == 200 and response.json()["target"] == 23300.0
    event = recorded.events.get(action=ForecastEvent.Action.CORRECTED)
    assert event.actor == reviewer and event.changes == {"target": [23200.0, 23300.0]}
    assert event.reason == "The article says 23,300."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"changes": {"target": -1}, "reason": "typo"}, "changes.target"),
        ({"changes": {"status": "hit"}, "reason": "because"}, "changes.status"),
        ({"changes": {"instrument": "NOPE"}, "reason": "typo"}, "changes.instrument"),
        ({"changes": {"target": 23300}, "reason": "  "}, "reason"),
        ({"changes": {"target": 23300}}, "reason"),
    ],
)
def test_invalid_corrections(api, recorded, body, field):
    error = error_of(post(api, f"/api/forecasts/{recorded.pk}/correct/", body), 400)
    assert field in error["fields"], error
    assert not recorded.events.filter(action=ForecastEvent.Action.CORRECTED).exists()


def test_void_a_forecast(api, reviewer, recorded):
    response = post(api, f"/api/forecasts/{recorded.pk}/void/", {"reason": "Misquote"})
    assert response.status_code == 200
    assert response.json()["status"] == "void" and response.json()["void_reason"] == "Editor: Misquote"
    event = recorded.events.get(action=ForecastEvent.Action.VOIDED)
    assert event.actor == reviewer and event.reason == "Misquote"
    again = error_of(post(api, f"/api/forecasts/{recorded.pk}/void/", {"reason": "again"}), 400)
    assert again["fields"] == {"status": ["The forecast is already void."]}
    assert error_of(post(api, f"/api/forecasts/{recorded.pk}/void/", {"reason": ""}), 400)["fields"]["reason"]


def test_writes_on_unknown_forecasts_are_404(api, db):
    assert error_of(post(api, "/api/forecasts/999999/void/", {"reason": "x"}), 404)["code"] == "not_found"


def test_reads_are_unchanged_for_token_holders(api, recorded):
    assert api.get(f"/api/forecasts/{recorded.pk}/").json()["status"] == Status.PENDING


def test_an_editor_records_drafts_and_cannot_publish_correct_or_void(client, editor, reviewer, hsi_known):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token_for(editor)}"
    body = post(client, "/api/sources/", SEED).json()
    assert body["held_for_review"] == [True, True]
    draft = Forecast.all_objects.get(pk=body["forecasts"][0]["id"])
    assert draft.published_at is None and not Forecast.objects.filter(pk=draft.pk).exists()
    for action, payload in (
        ("void", {"reason": "Misquote"}),
        ("correct", {"changes": {"target": 23300}, "reason": "typo"}),
    ):
        error = error_of(post(client, f"/api/forecasts/{draft.pk}/{action}/", payload), 403)
        assert error["code"] == "permission_denied" and "reviewer" in error["message"]
    draft.refresh_from_db()
    assert (draft.status, draft.target) == ("pending", 23200.0)
