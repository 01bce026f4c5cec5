"""Knox tokens for editors: log in, log out, log out everywhere."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from knox.views import LoginView as KnoxLoginView
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import exceptions, permissions
from rest_framework.authentication import BasicAuthentication

from forecasts.api import serializers as s
from forecasts.api.auth import TokenAuthentication
from forecasts.api.conventions import (
    ApiView,
    error_responses,
)

# --- tokens --------------------------------------------------------------------------------------------


class LoginView(ApiView, KnoxLoginView):
    """A token for the editors' API, from HTTP basic auth or a username and password in the body."""

    authentication_classes = [BasicAuthentication]
    permission_classes = [permissions.AllowAny]
    pagination_class = None

    @extend_schema(
        summary="Get an API token",
        description="Send HTTP basic auth, or {username, password}. The token is stored hashed, expires "
        '(see `expiry`), and is revoked by /api/auth/logout/. Use it as "Authorization: Token <token>".',
        request=s.LoginSerializer,
        responses={200: s.TokenSerializer} | error_responses(400, 401, 403, 406, 429),
    )
    def post(self, request, format=None):
        if not request.user.is_authenticated:
            body = s.LoginSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            username, password = body.validated_data.get("username"), body.validated_data.get("password")
            if not username or not password:
                raise exceptions.NotAuthenticated("Send HTTP basic auth, or a username and a password.")
            user = authenticate(request, username=username, password=password)
            if user is None or not user.is_active:
                raise exceptions.AuthenticationFailed("Invalid username or password.")
            request.user = user
        return super().post(request, format=format)

    def get_post_response_data(self, request, token, instance):
        return {
            "token": token,
            "expiry": self.format_expiry_datetime(instance.expiry) if instance.expiry else None,
            "username": request.user.get_username(),
        }

    def get_authenticate_header(self, request):
        return 'Basic realm="api"'


class LogoutView(ApiView, KnoxLogoutView):
    authentication_classes = [TokenAuthentication]
    pagination_class = None

    @extend_schema(
        summary="Revoke this token",
        request=None,
        responses={204: OpenApiResponse(description="Revoked.")} | error_responses(401, 406, 429),
    )
    def post(self, request, format=None):
        return super().post(request, format=format)


class LogoutAllView(ApiView, KnoxLogoutAllView):
    authentication_classes = [TokenAuthentication]
    pagination_class = None

    @extend_schema(
        summary="Revoke all of this user's tokens",
        request=None,
        responses={204: OpenApiResponse(description="Revoked.")} | error_responses(401, 406, 429),
    )
    def post(self, request, format=None):
        return super().post(request, format=format)
