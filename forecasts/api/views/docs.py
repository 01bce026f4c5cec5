"""The API documentation (Swagger UI from our own static files, no inline script); the JSON 404."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve, reverse
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import permissions
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from forecasts.api.errors import error_body

# --- docs, served from our own static files ------------------------------------------------------------


class SwaggerView(APIView):
    """Swagger UI from drf-spectacular-sidecar's bundled files (no CDN), started by a static script.

    The page runs under the site's Content-Security-Policy ('self' only, no 'unsafe-inline'): its
    styles and its initialisation are static files (forecasts/static/forecasts/api-docs.{css,js}) and
    what they need is in data- attributes. No nonce and no CSRF token: the page is the same for every
    reader, so it can be cached whole (a session's token is read from its cookie by the script).
    """

    renderer_classes = [TemplateHTMLRenderer]
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    template_name = "forecasts/api_docs.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        header = settings.CSRF_HEADER_NAME.removeprefix("HTTP_").replace("_", "-")
        return Response(
            {
                "title": spectacular_settings.TITLE,
                "schema_url": reverse("api-schema"),
                "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
                "csrf_header_name": header,
            },
            template_name=self.template_name,
        )


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
