"""The editorial roles, as auth groups with their permissions.

Editors record forecasts as drafts; reviewers publish, correct, void and judge; the
public reads. Kept in step after every migrate (and after a test database
flush) by a post_migrate handler, so the groups always exist.
"""

from __future__ import annotations

ROLES: dict[str, list[tuple[str, str]]] = {
    "Editors": [
        ("forecasts", "add_forecast"), ("forecasts", "change_forecast"), ("forecasts", "view_forecast"),
        ("forecasts", "add_source"), ("forecasts", "change_source"), ("forecasts", "view_source"),
        ("forecasts", "add_strategist"), ("forecasts", "change_strategist"), ("forecasts", "view_strategist"),
        ("forecasts", "add_firm"), ("forecasts", "change_firm"), ("forecasts", "view_firm"),
        ("forecasts", "add_alias"), ("forecasts", "change_alias"), ("forecasts", "view_alias"),
        ("marketdata", "view_instrument"), ("marketdata", "add_instrument"),
    ],
    "Reviewers": [
        ("forecasts", "view_forecast"), ("forecasts", "change_forecast"), ("forecasts", "add_forecast"),
        ("forecasts", "publish_forecast"), ("forecasts", "correct_forecast"), ("forecasts", "void_forecast"),
        ("forecasts", "judge_forecast"), ("forecasts", "view_source"), ("forecasts", "add_source"),
        ("forecasts", "view_strategist"), ("forecasts", "view_firm"), ("forecasts", "view_ledgerentry"),
        ("marketdata", "view_instrument"),
    ],
}  # fmt: skip


def ensure_roles(sender=None, **kwargs) -> None:
    """Create or complete the role groups (idempotent; a post_migrate receiver)."""
    from django.contrib.auth.models import Group, Permission

    if sender is not None and getattr(sender, "name", None) != "forecasts":
        return  # post_migrate fires once per app; once (after forecasts' permissions exist) is enough

    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = Permission.objects.none()
        for app_label, codename in perms:
            wanted |= Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*wanted)
