"""What every API view shares: pagination, one error format, conditional GET, CSV, schema snippets."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from datetime import datetime

from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import filters
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer

from forecasts.api.serializers import ErrorSerializer
from forecasts.site.presentation import csv_cell


class Pagination(LimitOffsetPagination):
    """?limit=&offset= on every list; counts included. Lists are ordered with the id as a tie-breaker."""

    default_limit = 50
    max_limit = 500


class BarPagination(CursorPagination):
    """Price bars: cursor pagination on the session date (unique per instrument, so the order is stable
    and pages do not shift when bars are added)."""

    ordering = "session"
    page_size = 500
    page_size_query_param = "limit"
    max_page_size = 2000


class StableOrderingFilter(filters.OrderingFilter):
    """?ordering=, always ending with the id so that equal values page deterministically."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(f.lstrip("-") in ("id", "pk") for f in ordering):
            ordering.append("id")
        return ordering


class ApiView:
    """Mixin for every API view: errors always as JSON, strong ETag on every successful read and
    Last-Modified where the view knows when its data last changed (`self.last_modified`).

    A GET with a matching If-None-Match (or, without one, an If-Modified-Since not older than
    Last-Modified) gets 304 and no body. The ETag is a hash of the body, so it is always exact; the
    body is still computed, so a 304 saves bandwidth, not queries.
    """

    pagination_class = Pagination
    last_modified: datetime | None = None

    def handle_exception(self, exc):
        # An error is JSON whatever representation was asked for (e.g. ?format=csv).
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        etag = '"' + hashlib.sha256(response.content).hexdigest()[:40] + '"'
        response["ETag"] = etag
        stamp = int(self.last_modified.timestamp()) if self.last_modified else None
        if stamp is not None:
            response["Last-Modified"] = http_date(stamp)
        # May be stored, but revalidated every time. An anonymous read is the same for every reader, so it is
        # public (the page cache keeps it whole under the data version); an editor's may hold drafts.
        anonymous = not (request.user and request.user.is_authenticated)
        response.setdefault("Cache-Control", "public, no-cache" if anonymous else "private, no-cache")
        conditional = get_conditional_response(request, etag=etag, last_modified=stamp, response=response)
        return conditional if conditional is not None else response


# --- CSV ---------------------------------------------------------------------------------------------

TRACK_RECORD_CSV_COLUMNS = [
    "id",
    "made_at",
    "strategist",
    "strategist_name",
    "firm",
    "instrument",
    "kind",
    "target",
    "target_upper",
    "other_instrument",
    "basis",
    "deadline",
    "deadline_source",
    "quote",
    "claim",
    "publication",
    "source_url",
    "status",
    "resolved_on",
    "resolution_price",
    "baseline",
    "baseline_date",
    "difficulty",
    "skill",
    "status_note",
    "void_reason",
    "scorer_version",
    "instrument_name",  # added last (columns are positional): its name in the request's language
]


EXCEL_VALUES = ("1", "true", "yes")


def wants_excel(request) -> bool:
    """`?excel=1`: the CSV for Excel, which reads a UTF-8 file as UTF-8 only when it starts with a BOM."""
    return request is not None and request.query_params.get("excel", "").lower() in EXCEL_VALUES


class TrackRecordCSVRenderer(BaseRenderer):
    """A track record's forecasts, one row each (the summary is in the JSON form).

    Plain UTF-8 by default; with `?excel=1` the same bytes after a UTF-8 byte order mark, so that Excel
    shows Chinese names and quotes instead of mojibake (both declare charset=utf-8).
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(TRACK_RECORD_CSV_COLUMNS)
        for f in (data or {}).get("forecasts", []):
            source = f.get("source") or {}
            row = {**f, "publication": source.get("publication"), "source_url": source.get("url")}
            writer.writerow([csv_cell(row.get(c)) for c in TRACK_RECORD_CSV_COLUMNS])
        response = (renderer_context or {}).get("response")
        if response is not None and isinstance(data, dict):
            subject = data.get("strategist") or data.get("firm") or {}
            suffix = f"-as-of-{data['as_of']}" if data.get("as_of") else ""
            excel = wants_excel((renderer_context or {}).get("request"))
            suffix += "-excel" if excel else ""
            response["Content-Disposition"] = (
                f'attachment; filename="{subject.get("slug", "track-record")}-track-record{suffix}.csv"'
            )
            if excel:
                return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
        return out.getvalue().encode("utf-8")


# --- schema snippets ---------------------------------------------------------------------------------


def error_responses(*codes: int) -> dict:
    """The error responses of an endpoint, all in the one error format."""
    text = {
        400: "Invalid parameters or body; `fields` names each bad field.",
        401: "No or invalid token.",
        403: "Authenticated, but not allowed (editors only).",
        404: "No such object (or page).",
        406: "The Accept header asks for a representation this endpoint does not have.",
        413: "The request body is over the size limit (DATA_UPLOAD_MAX_MEMORY_SIZE).",
        429: "Too many requests from this client; see Retry-After.",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=text[code]) for code in codes}


READ_ERRORS = (400, 404, 406, 429)
WRITE_ERRORS = (400, 401, 403, 404, 406, 413, 429)

AS_OF_PARAMETER = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="YYYY-MM-DD. As it stood at the end of that date (UTC): forecasts made later are absent; "
    "those decided later (resolved_on after it, voids recorded after it) are pending; later rescoring "
    "after price revisions and later editor corrections, voids and judgements are undone. A future "
    "date gives the present.",
)
FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    enum=["json", "csv"],
    description="csv: the forecasts as CSV (also with Accept: text/csv).",
)
EXCEL_PARAMETER = OpenApiParameter(
    "excel",
    OpenApiTypes.BOOL,
    description="With CSV: start the file with a UTF-8 byte order mark, so that Excel reads it as UTF-8.",
)
