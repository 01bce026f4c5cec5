"""What every API view module shares: the published-forecasts queryset, permissions, ranking."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import permissions

from forecasts.models import Forecast

RANKING = (
    "Ranked by the lower bound of mean skill (mean skill - 1.96 x its standard error), so that a few "
    "lucky calls do not top the board; skill = outcome - p, where p is the chance a driftless random walk "
    "makes the claim come true. Only those with at least {min_resolved} scored hits and misses get a rank; "
    "ties share it. The rest follow, unranked, by number resolved."
)


def published_forecasts() -> QuerySet[Forecast]:
    """What the public sees, with every foreign key a forecast row shows."""
    return Forecast.objects.select_related("strategist", "firm", "source", "instrument", "other_instrument")


class IsStaff(permissions.BasePermission):
    """Editors: authenticated staff users."""

    message = "Only editors (staff users) can do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
