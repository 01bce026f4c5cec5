"""The API documentation (Swagger UI from our own static files) and the JSON 404 for unknown paths."""

from __future__ import annotations

from django.http import HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve
from drf_spectacular.utils import (
    extend_schema,
)
from drf_spectacular.views import SpectacularSwaggerView, _get_sidecar_url
from rest_framework import permissions
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from forecasts.api.errors import error_body

# --- docs, served from our own static files ------------------------------------------------------------


class SwaggerView(SpectacularSwaggerView):
    """Swagger UI from drf-spectacular-sidecar's bundled files: no CDN."""

    url_name = "api-schema"

    @staticmethod
    def _swagger_ui_resource(filename):
        return _get_sidecar_url(f"swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon():
        return _get_sidecar_url("swagger-ui-dist/favicon-32x32.png")


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([permissions.AllowAny])
def not_found(request, path: str = ""):
    """Anything else under /api/: the one error format (or the slash-appended URL, as Django would)."""
    if not request.path.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
    return Response(error_body(404, "not_found", "No such API endpoint."), status=404)
