"""Password-guessing protection for every login (admin and API token login).

After HINDSIGHT_LOGIN_ATTEMPTS failures from one client address, or against one
user name, further attempts are refused for HINDSIGHT_LOGIN_LOCKOUT_SECONDS,
even with the right password. Counts live in the shared cache (Redis in
production), so every web process sees them.

The same backend reads a user's permissions (their own and their groups') in one
query instead of ModelBackend's two: every recorded forecast asks for them.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q

log = logging.getLogger(__name__)


def _keys(request, username: str | None) -> list[str]:
    address = (request.META.get("REMOTE_ADDR") if request is not None else None) or "unknown"
    name = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:ip:{address}", f"login-fail:user:{name}"]


def is_locked_out(request, username: str | None) -> bool:
    limit = settings.HINDSIGHT_LOGIN_ATTEMPTS
    return any((cache.get(key) or 0) >= limit for key in _keys(request, username))


def record_failure(request, username: str | None) -> None:
    for key in _keys(request, username):
        if not cache.add(key, 1, settings.HINDSIGHT_LOGIN_LOCKOUT_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, settings.HINDSIGHT_LOGIN_LOCKOUT_SECONDS)


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if is_locked_out(request, username):
            log.warning("login refused: too many failures (user %r)", username)
            raise PermissionDenied("Too many failed login attempts; try again later.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(request, username)
        else:
            cache.delete(_keys(request, username)[1])
        return user

    def get_all_permissions(self, user_obj, obj=None):
        """ModelBackend's answer (user and group permissions, every one for a superuser, none for an
        inactive user or an object), in one query, cached on the user object as ModelBackend does."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            perms = (
                Permission.objects.all()
                if user_obj.is_superuser
                else Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
            )
            rows = perms.values_list("content_type__app_label", "codename").order_by().distinct()
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in rows}
        return user_obj._perm_cache

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
