import django_filters
from django.shortcuts import get_object_or_404
from rest_framework import viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from forecasts.api.serializers import ForecastSerializer
from forecasts.models import Forecast, Status, Strategist
from forecasts.selectors import strategist_forecasts, summarize


class ForecastFilter(django_filters.FilterSet):
    strategist = django_filters.CharFilter(field_name="strategist__slug", help_text="Strategist slug.")
    instrument = django_filters.CharFilter(field_name="instrument__symbol", help_text="Instrument symbol.")
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Forecast
        fields = ["strategist", "instrument", "status"]


class ForecastViewSet(viewsets.ReadOnlyModelViewSet):
    """Recorded forecasts with their scores, newest first."""

    serializer_class = ForecastSerializer
    filterset_class = ForecastFilter
    queryset = Forecast.objects.select_related(
        "strategist", "firm", "source", "instrument", "other_instrument"
    ).order_by("-made_at", "pk")


@api_view(["GET"])
def strategist_track_record(request, slug: str):
    """SCORING §4 summary for one strategist, plus every forecast with its score."""
    strategist = get_object_or_404(Strategist.objects.select_related("firm"), slug=slug)
    summary = summarize(strategist.forecasts.all())
    forecasts = strategist_forecasts(strategist)
    return Response(
        {
            "strategist": {
                "slug": strategist.slug,
                "name": strategist.name,
                "firm": strategist.firm.name if strategist.firm else None,
                "title": strategist.title,
            },
            "summary": summary.as_dict(),
            "forecasts": ForecastSerializer(forecasts, many=True).data,
        }
    )
