"""Token authentication for the API: knox's, without its per-request sweep of the user's other tokens.

knox.auth.TokenAuthentication reads every token of the user on every request to delete the expired
ones: one query per write for housekeeping that does not decide the answer (an expired token is refused
either way, it is checked here). The sweep runs hourly instead, as a beat task
(forecasts.tasks.purge_expired_tokens).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.signals import token_expired


class TokenAuthentication(KnoxTokenAuthentication):
    def _cleanup_token(self, auth_token) -> bool:
        """Refuse (and delete) this token when it has expired; the user's other tokens are left to the
        hourly purge."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    """The same bearer-token scheme in the OpenAPI schema as knox's own."""

    target_class = "forecasts.api.auth.TokenAuthentication"
