"""Track records (strategists, firms) and the leaderboard, live or as of a past date."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.db.models import Max, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from forecasts.api import serializers as s
from forecasts.api.conventions import (
    AS_OF_PARAMETER,
    EXCEL_PARAMETER,
    FORMAT_PARAMETER,
    READ_ERRORS,
    ApiView,
    TrackRecordCSVRenderer,
    error_responses,
)
from forecasts.api.examples import TRACK_RECORD_EXAMPLE
from forecasts.api.views.common import RANKING, published_forecasts
from forecasts.models import Firm, Forecast, Strategist
from forecasts.selectors import (
    ForecastFilters,
    filter_forecasts,
    filtered_leaderboard,
    pointintime,
    summarize,
)

# --- track records and the leaderboard --------------------------------------------------------------


class TrackRecordView(ApiView, GenericAPIView):
    renderer_classes = [JSONRenderer, TrackRecordCSVRenderer]
    pagination_class = None
    filter_backends: list = []

    def as_of(self):
        query = s.AsOfQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get("as_of")

    def track_record(self, forecasts: QuerySet[Forecast], as_of) -> dict:
        ordered = forecasts.order_by("-made_at", "pk")
        if as_of is None:
            summary, rows = summarize(forecasts), list(ordered)
        else:
            record = pointintime.track_record_as_of(ordered, as_of)
            summary, rows = record.summary, record.forecasts
        self.last_modified = max((f.updated_at for f in rows), default=None)
        return {"as_of": as_of, "summary": summary.as_dict(), "forecasts": rows}


TRACK_RECORD_SCHEMA = {
    "parameters": [AS_OF_PARAMETER, FORMAT_PARAMETER, EXCEL_PARAMETER],
    "filters": False,
}


class StrategistTrackRecordView(TrackRecordView):
    serializer_class = s.StrategistTrackRecordSerializer

    @extend_schema(
        summary="A strategist's track record",
        description="SCORING §4 summary of the strategist's published forecasts, and every forecast with its "
        "score, newest first (not paginated: it is one document). JSON, or CSV with `?format=csv` / "
        "`Accept: text/csv`.",
        responses={
            (200, "application/json"): s.StrategistTrackRecordSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per forecast."),
        }
        | error_responses(*READ_ERRORS),
        examples=[OpenApiExample("Alvin Ngan", value=TRACK_RECORD_EXAMPLE, response_only=True)],
        **TRACK_RECORD_SCHEMA,
    )
    def get(self, request, slug: str, format=None):
        as_of = self.as_of()
        strategist = get_object_or_404(Strategist.objects.select_related("firm"), slug=slug)
        body = self.track_record(published_forecasts().filter(strategist=strategist), as_of)
        data = {
            "strategist": {
                "slug": strategist.slug,
                "name": strategist.name,
                "firm": strategist.firm.name if strategist.firm else None,
                "title": strategist.title,
            },
            **body,
        }
        return Response(s.StrategistTrackRecordSerializer(data).data)


class FirmTrackRecordView(TrackRecordView):
    serializer_class = s.FirmTrackRecordSerializer

    @extend_schema(
        summary="A firm's track record",
        description="As a strategist's, over the forecasts its strategists made while at the firm.",
        responses={
            (200, "application/json"): s.FirmTrackRecordSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per forecast."),
        }
        | error_responses(*READ_ERRORS),
        **TRACK_RECORD_SCHEMA,
    )
    def get(self, request, slug: str, format=None):
        as_of = self.as_of()
        firm = get_object_or_404(Firm, slug=slug)
        body = self.track_record(published_forecasts().filter(firm=firm), as_of)
        data = {"firm": firm, **body}
        return Response(s.FirmTrackRecordSerializer(data).data)


class LeaderboardView(ApiView, GenericAPIView):
    serializer_class = s.LeaderboardSerializer
    filter_backends: list = []

    @extend_schema(
        summary="The leaderboard",
        description="Strategists (or firms, `?by=firm`) ranked as on the site's leaderboard, over the "
        "published forecasts that match the filters. `?as_of=` gives the board as it stood then.",
        parameters=[
            s.LeaderboardQuerySerializer,
            AS_OF_PARAMETER,
            OpenApiParameter("limit", int, description="Rows per page (default 50, at most 500)."),
            OpenApiParameter("offset", int, description="Rows to skip."),
        ],
        responses={200: s.LeaderboardSerializer} | error_responses(*READ_ERRORS),
    )
    def get(self, request, format=None):
        query = s.LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        by, as_of = q["by"], q.get("as_of")
        wanted = ForecastFilters(
            market=q["market"],
            instrument=q["instrument"],
            firm=q["firm"],
            strategist=q["strategist"],
            kind=q["kind"],
            status=q["status"],
            made_from=q["made_from"],
            made_to=q["made_to"],
        )
        min_resolved = settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED
        if as_of is None:
            forecasts = filter_forecasts(Forecast.objects.all(), wanted)
            rows = filtered_leaderboard(wanted, by=by, min_resolved=min_resolved)
            self.last_modified = forecasts.order_by().aggregate(at=Max("updated_at"))["at"]
        else:
            forecasts = filter_forecasts(Forecast.objects.all(), replace(wanted, status=""))
            rows = pointintime.leaderboard_as_of(
                forecasts, as_of, by=by, status=wanted.status, min_resolved=min_resolved
            )
        page = self.paginate_queryset(rows)
        data = {
            "count": self.paginator.count,
            "next": self.paginator.get_next_link(),
            "previous": self.paginator.get_previous_link(),
            "by": by,
            "as_of": as_of,
            "min_resolved": min_resolved,
            "ranking": RANKING.format(min_resolved=min_resolved),
            "results": [
                {
                    "rank": row.rank,
                    "slug": row.subject.slug,
                    "name": row.subject.name,
                    "firm": getattr(row.subject, "firm", None),
                    "summary": row.summary.as_dict(),
                }
                for row in page
            ],
        }
        return Response(s.LeaderboardSerializer(data).data)
