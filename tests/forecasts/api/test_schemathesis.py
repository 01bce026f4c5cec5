"""Property-based run of the whole API against its own OpenAPI schema, on the demo data.

Every operation gets generated requests (as an editor with a token, so the writes are exercised too);
every response must not be a 5xx and must conform to the schema: a documented status code, content type,
headers and body. Bounded (MAX_EXAMPLES per operation) so it runs in a couple of minutes.
"""

from io import StringIO

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from knox.models import AuthToken
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def _demo_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_demo", "--no-admin", stdout=StringIO())
    yield
    with django_db_blocker.unblock():
        call_command("flush", "--no-input")


@pytest.fixture
def wsgi_requests(_demo_data, db, settings):
    """The demo, the one error format, and the test's database connection kept open across requests."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "EXCEPTION_HANDLER": "forecasts.api.errors.exception_handler",
    }
    # The WSGI handler would close the test's database connection at the end of each request (the test
    # client avoids this the same way).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def editor_token(db):
    editor = get_user_model().objects.create_user("fuzz-editor", password="x-long-password", is_staff=True)
    return AuthToken.objects.create(user=editor)[1]


# Loading the schema needs no database: it is generated from the code.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, wsgi_requests, editor_token):
    from django.core.cache import cache

    cache.clear()  # throttle counts: a fuzz run is many requests from one client
    headers = {}
    if not case.path.startswith("/api/auth/logout"):  # logging out would revoke the token for the rest
        headers["Authorization"] = f"Token {editor_token}"
    case.call_and_validate(headers=headers, checks=CHECKS)
