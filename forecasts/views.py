"""Public pages. Views only fetch through selectors and render."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from forecasts.models import Forecast, Strategist
from forecasts.selectors import leaderboard, strategist_forecasts, summarize


@require_GET
def leaderboard_page(request):
    rows = leaderboard()
    return render(
        request,
        "forecasts/leaderboard.html",
        {
            "ranked": [r for r in rows if r.rank is not None],
            "unranked": [r for r in rows if r.rank is None],
            "min_resolved": settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED,
        },
    )


@require_GET
def strategist_page(request, slug: str):
    strategist = get_object_or_404(Strategist.objects.select_related("firm"), slug=slug)
    forecasts = list(strategist_forecasts(strategist))
    return render(
        request,
        "forecasts/strategist.html",
        {"strategist": strategist, "summary": summarize(strategist.forecasts.all()), "forecasts": forecasts},
    )


@require_GET
def forecast_page(request, pk: int):
    forecast = get_object_or_404(
        Forecast.objects.select_related("strategist", "firm", "source", "instrument", "other_instrument"),
        pk=pk,
    )
    events = list(forecast.events.select_related("actor"))
    return render(request, "forecasts/forecast.html", {"f": forecast, "events": events})
