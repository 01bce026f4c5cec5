"""Strategists, firms, instruments (with their bars and outlook) and sources (reads; recording a source)."""

from __future__ import annotations

import django_filters
from django.db.models import Max, Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import filters, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from forecasts.api import serializers as s
from forecasts.api.conventions import (
    READ_ERRORS,
    WRITE_ERRORS,
    ApiView,
    BarPagination,
    StableOrderingFilter,
    error_responses,
)
from forecasts.api.views.common import IsStaff
from forecasts.api.writes import source_record
from forecasts.models import Firm, Forecast, Source, Strategist
from forecasts.selectors.outlook import instrument_outlook
from forecasts.services.people import instrument_by_name
from marketdata.models import CalendarCode, Instrument

# --- strategists, firms, instruments, sources --------------------------------------------------------


class StrategistFilter(django_filters.FilterSet):
    firm = django_filters.CharFilter(field_name="firm__slug", help_text="Firm slug.")

    class Meta:
        model = Strategist
        fields = ["firm"]


@extend_schema_view(
    list=extend_schema(
        summary="Strategists", responses={200: s.StrategistSerializer} | error_responses(*READ_ERRORS)
    ),
    retrieve=extend_schema(
        summary="A strategist", responses={200: s.StrategistSerializer} | error_responses(*READ_ERRORS)
    ),
)
class StrategistViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    """People quoted making forecasts. `?firm=<slug>`, `?search=` (name), `?ordering=name`."""

    serializer_class = s.StrategistSerializer
    queryset = Strategist.objects.select_related("firm").order_by("name", "id")
    lookup_field = "slug"
    filter_backends = [
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        StableOrderingFilter,
    ]
    filterset_class = StrategistFilter
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "slug"]


@extend_schema_view(
    list=extend_schema(summary="Firms", responses={200: s.FirmSerializer} | error_responses(*READ_ERRORS)),
    retrieve=extend_schema(
        summary="A firm", responses={200: s.FirmSerializer} | error_responses(*READ_ERRORS)
    ),
)
class FirmViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    """Firms the strategists worked for. `?search=` (name), `?ordering=name`."""

    serializer_class = s.FirmSerializer
    queryset = Firm.objects.order_by("name", "id")
    lookup_field = "slug"
    filter_backends = [filters.SearchFilter, StableOrderingFilter]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "slug"]


class InstrumentFilter(django_filters.FilterSet):
    asset_class = django_filters.CharFilter(help_text="index, equity, fx, commodity or crypto.")
    market = django_filters.ChoiceFilter(
        field_name="calendar_code", choices=CalendarCode.choices, help_text="Calendar code, e.g. XHKG."
    )

    class Meta:
        model = Instrument
        fields = ["asset_class", "market"]


@extend_schema_view(
    list=extend_schema(
        summary="Instruments", responses={200: s.InstrumentSerializer} | error_responses(*READ_ERRORS)
    ),
    retrieve=extend_schema(
        summary="An instrument", responses={200: s.InstrumentSerializer} | error_responses(*READ_ERRORS)
    ),
)
class InstrumentViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    """What forecasts are about. `?market=XHKG`, `?asset_class=`, `?search=` (symbol, names, aliases such as
    恒指). An instrument is addressed by its symbol; an alias (`/api/instruments/恒指/`) finds it too."""

    serializer_class = s.InstrumentSerializer
    queryset = Instrument.objects.order_by("symbol", "id")
    lookup_field = "symbol"
    lookup_value_regex = "[^/]+"  # symbols have dots (0941.HK)
    filter_backends = [
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        StableOrderingFilter,
    ]
    filterset_class = InstrumentFilter
    search_fields = ["symbol", "name", "name_zh_hant", "name_zh_hans", "aliases__name"]
    ordering_fields = ["symbol", "name"]

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            found = instrument_by_name(self.kwargs.get(self.lookup_field, ""))
            if found is None:
                raise
            self.check_object_permissions(self.request, found)
            return found

    @extend_schema(
        summary="What strategists expect now",
        description="The published open calls on the instrument (pending, deadline not passed), each with "
        "its author's record, the consensus level weighted by those records (shrunk toward the plain "
        "median for authors with few decided calls) and how such a consensus fared at each past "
        "month-end against the close on the calls' median deadline. The rule is on the methodology page.",
        filters=False,
        responses={200: s.OutlookSerializer} | error_responses(*READ_ERRORS),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def outlook(self, request, symbol=None):
        instrument = self.get_object()
        return Response(s.OutlookSerializer(instrument_outlook(instrument)).data)

    @extend_schema(
        summary="Daily price bars",
        description="Raw (unadjusted) daily bars by exchange session date, oldest first, "
        "cursor-paginated (`next` / `previous` links; `?limit=` up to 2000).",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First session (inclusive)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last session (inclusive)."),
            OpenApiParameter("cursor", str, description="From a `next` / `previous` link."),
            OpenApiParameter("limit", int, description="Bars per page (default 500, at most 2000)."),
        ],
        filters=False,
        responses={200: s.PriceBarSerializer(many=True)} | error_responses(*READ_ERRORS),
        examples=[
            OpenApiExample(
                "HSI, two sessions",
                value={
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "session": "2025-02-20",
                            "open": 22877.2,
                            "high": 22973.6,
                            "low": 22476.6,
                            "close": 22576.98,
                            "volume": 0.0,
                        },
                        {
                            "session": "2025-02-21",
                            "open": 22796.4,
                            "high": 23477.92,
                            "low": 22698.15,
                            "close": 23477.92,
                            "volume": 0.0,
                        },
                    ],
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"], pagination_class=BarPagination, filter_backends=[])
    def bars(self, request, symbol=None):
        instrument = self.get_object()
        query = s.BarsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        bars = instrument.bars.all()
        if query.validated_data.get("start"):
            bars = bars.filter(session__gte=query.validated_data["start"])
        if query.validated_data.get("end"):
            bars = bars.filter(session__lte=query.validated_data["end"])
        self.last_modified = bars.aggregate(at=Max("fetched_at"))["at"]
        page = self.paginate_queryset(bars)
        return self.get_paginated_response(s.PriceBarSerializer(page, many=True).data)


RELATED_SHOWN = ("strategist", "firm", "source", "instrument", "other_instrument")


@extend_schema_view(
    list=extend_schema(
        summary="Sources", responses={200: s.SourceSerializer} | error_responses(*READ_ERRORS)
    ),
    retrieve=extend_schema(
        summary="A source", responses={200: s.SourceSerializer} | error_responses(*READ_ERRORS)
    ),
)
class SourceViewSet(ApiView, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Articles (and broadcasts, notes, posts) that quoted forecasts, newest first."""

    serializer_class = s.SourceSerializer
    filter_backends = [filters.SearchFilter, StableOrderingFilter]
    search_fields = ["publication", "title", "url"]
    ordering_fields = ["published_at", "publication"]
    ordering = ["-published_at", "id"]

    def get_queryset(self):
        return Source.objects.prefetch_related(
            Prefetch("forecasts", queryset=Forecast.objects.order_by("pk"), to_attr="published_forecasts")
        ).order_by("-published_at", "id")

    def get_permissions(self):
        if self.action == "create":
            return [IsStaff()]
        return super().get_permissions()

    @extend_schema(
        summary="Record a source with its forecasts (editors and reviewers)",
        description="Through forecasts.services.recording.record_source, the one way in shared with the "
        "admin, the desk and the CSV import: the same rules, roles and history. All or nothing: if any "
        "forecast is refused nothing is written, and every error is named by its field, e.g. "
        "`forecasts.1.target`. "
        "A forecast is its claim (strategist, instrument, kind, targets, basis, deadline): two claims "
        "quoted in one sentence are two forecasts, and the same claim sent again is returned with "
        "`created: false` (200 when nothing was new). An editor's forecasts are drafts until a reviewer "
        "publishes them; a reviewer's are published, except possible duplicates of a call from another "
        "source, which wait for review (`held_for_review`). Scoring is queued after the commit.",
        request=s.SourceCreateSerializer,
        responses={201: s.SourceCreatedSerializer, 200: s.SourceCreatedSerializer}
        | error_responses(*WRITE_ERRORS),
        examples=[
            OpenApiExample(
                "The seed article",
                value={
                    "url": "https://www.chinadailyhk.com/hk/article/604533",
                    "publication": "China Daily HK",
                    "title": "Hong Kong stocks rallied on Friday",
                    "published": "2025-02-14",
                    "forecasts": [
                        {
                            "strategist": "Alvin Ngan",
                            "firm": "Zhongtai Financial International",
                            "quote": "the HSI could reclaim last year's peak of around 23,200 points",
                            "instrument": "HSI",
                            "kind": "reach",
                            "target": 23200,
                        }
                    ],
                },
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        body = s.SourceCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = source_record(body.validated_data, actor=request.user)
        source = result.source
        source.published_forecasts = list(Forecast.objects.filter(source=source).only("pk").order_by("pk"))
        # As stored (with eager tasks the scorer has run by now), the people, source and instruments
        # the service already holds attached rather than joined again.
        stored = Forecast.all_objects.in_bulk([item.forecast.pk for item in result.items])
        forecasts = []
        for item in result.items:
            row = stored[item.forecast.pk]
            for name in RELATED_SHOWN:
                if Forecast._meta.get_field(name).is_cached(item.forecast):
                    setattr(row, name, getattr(item.forecast, name))
            forecasts.append(row)
        return Response(
            {
                "source": s.SourceSerializer(source).data,
                "forecasts": s.ForecastSerializer(forecasts, many=True).data,
                "created": [item.created for item in result.items],
                "held_for_review": [item.forecast.published_at is None for item in result.items],
            },
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
