"""One error format for every API error.

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"target": ["..."]}}}

`fields` maps a field to its messages; nested fields are dotted ("forecasts.0.target"). Errors
that belong to no field are in `message`. Activated by

    REST_FRAMEWORK["EXCEPTION_HANDLER"] = "forecasts.api.errors.exception_handler"
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)

NON_FIELD_KEYS = ("non_field_errors", "__all__", "detail")


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):  # a form body read past DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(too_large_body(), status=413)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_errors(exc))
    elif isinstance(exc, DjangoPermissionDenied):  # a service refusing the user's role
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        if settings.DEBUG:
            return None  # Django's debug page
        log.exception("unhandled API error", exc_info=exc)
        return Response(error_body(500, "server_error", "Internal server error."), status=500)
    code = _code(exc)
    fields: dict[str, list[str]] = {}
    loose: list[str] = []
    _flatten(response.data, "", fields, loose)
    if isinstance(exc, exceptions.ValidationError):
        message = " ".join(loose) or (
            "Invalid input: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
        )
    else:
        message = " ".join(loose) or str(exc)
    response.data = error_body(response.status_code, code, message, fields)
    return response


def too_large_body() -> dict:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_body(413, "request_too_large", f"The request body is larger than {limit:,} bytes.")


class BodyLimitMiddleware:
    """An API request whose body is over DATA_UPLOAD_MAX_MEMORY_SIZE gets 413 in the one error format.

    Django enforces the limit only where it reads a form or `request.body` (and answers with its HTML
    400 page); DRF's JSON parser reads the stream itself, so without this a JSON body of any size
    would be read. The declared Content-Length is checked before anything reads the body; a body
    without one (chunked) is cut off at the limit by the server's stream (`LimitedStream`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path_info.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return JsonResponse(too_large_body(), status=413)
        return self.get_response(request)


def error_body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"status": status_code, "code": code, "message": message, "fields": fields or {}}}


def django_errors(exc: DjangoValidationError):
    """A Django ValidationError (from a service) as DRF error detail."""
    if hasattr(exc, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
    return {"non_field_errors": exc.messages}


def _code(exc) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        return codes if isinstance(codes, str) else exc.default_code
    if isinstance(exc, exceptions.PermissionDenied):
        return "permission_denied"
    return "not_found" if getattr(exc, "status_code", 404) == status.HTTP_404_NOT_FOUND else "error"


def _flatten(data, prefix: str, fields: dict, loose: list) -> None:
    """DRF error detail (nested dicts and lists) to {"dotted.field": [messages]} plus loose messages."""
    if isinstance(data, dict):
        for key, value in data.items():
            # A nested serializer's own non-field errors belong to the field that holds it.
            name = prefix if key in NON_FIELD_KEYS else (f"{prefix}.{key}" if prefix else str(key))
            _flatten(value, name, fields, loose)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, dict | list):
                if value:  # an empty dict is a list item without errors
                    _flatten(value, f"{prefix}.{i}" if prefix else str(i), fields, loose)
            else:
                _flatten(value, prefix, fields, loose)
    elif data is not None:
        if prefix:
            fields.setdefault(prefix, []).append(str(data))
        else:
            loose.append(str(data))
