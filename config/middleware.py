"""Response headers Django does not set by itself (Content-Security-Policy, Permissions-Policy)."""

from __future__ import annotations

from django.conf import settings


class SecurityHeadersMiddleware:
    """Adds CSP and Permissions-Policy to every response that has none yet.

    The site loads only its own scripts and styles (charts are vendored), and
    chart data travels in <script type="application/json"> blocks, which CSP
    does not execute, so 'self' is enough.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = settings.HINDSIGHT_CONTENT_SECURITY_POLICY
        self.permissions = "camera=(), microphone=(), geolocation=(), payment=()"

    def __call__(self, request):
        response = self.get_response(request)
        if self.csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.csp
        response.setdefault("Permissions-Policy", self.permissions)
        return response
