"""Forecasts: the filtered list, one forecast, and the reviewers' corrections and voids."""

from __future__ import annotations

import django_filters
from django.db.models import Max, OuterRef, Subquery
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import filters, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from forecasts import services
from forecasts.api import serializers as s
from forecasts.api.conventions import (
    READ_ERRORS,
    WRITE_ERRORS,
    ApiView,
    StableOrderingFilter,
    error_responses,
)
from forecasts.api.views.common import IsStaff, published_forecasts
from forecasts.api.writes import forecast_correct
from forecasts.models import Forecast, Kind, Status
from forecasts.selectors.leaderboards import instruments_named
from marketdata.models import CalendarCode

# --- forecasts ---------------------------------------------------------------------------------------


def with_revisions(queryset):
    """Annotated with the published calls it revises and is revised by (ids; drafts stay hidden)."""
    return queryset.annotate(
        supersedes_published=Subquery(Forecast.objects.filter(pk=OuterRef("supersedes_id")).values("pk")[:1]),
        superseded_by_published=Subquery(
            Forecast.objects.filter(supersedes=OuterRef("pk")).order_by("made_at", "pk").values("pk")[:1]
        ),
    )


class ForecastFilter(django_filters.FilterSet):
    strategist = django_filters.CharFilter(field_name="strategist__slug", help_text="Strategist slug.")
    firm = django_filters.CharFilter(field_name="firm__slug", help_text="Firm slug (the firm when made).")
    instrument = django_filters.CharFilter(
        method="filter_instrument",
        help_text="Instrument symbol or alias, e.g. HSI, 恒指, 恒生指数, Hang Seng.",
    )
    market = django_filters.ChoiceFilter(
        field_name="instrument__calendar_code", choices=CalendarCode.choices, help_text="Calendar code."
    )
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    status = django_filters.ChoiceFilter(choices=Status.choices)
    made_from = django_filters.DateFilter(
        field_name="made_at", lookup_expr="date__gte", help_text="Made on or after (UTC date)."
    )
    made_to = django_filters.DateFilter(
        field_name="made_at", lookup_expr="date__lte", help_text="Made on or before (UTC date)."
    )
    deadline_from = django_filters.DateFilter(field_name="deadline", lookup_expr="gte")
    deadline_to = django_filters.DateFilter(field_name="deadline", lookup_expr="lte")
    resolved_from = django_filters.DateFilter(
        field_name="resolved_on", lookup_expr="gte", help_text="Deciding session on or after."
    )
    resolved_to = django_filters.DateFilter(field_name="resolved_on", lookup_expr="lte")

    def filter_instrument(self, queryset, name, value):
        return queryset.filter(instrument__in=instruments_named(value))

    class Meta:
        model = Forecast
        fields = [
            "strategist",
            "firm",
            "instrument",
            "market",
            "kind",
            "status",
            "made_from",
            "made_to",
            "deadline_from",
            "deadline_to",
            "resolved_from",
            "resolved_to",
        ]


@extend_schema_view(
    list=extend_schema(
        summary="Forecasts",
        description="Published forecasts with their scores, newest first. Filters combine with AND; "
        "`search` looks in the quote, the strategist's name and the instrument's symbol, names and "
        "aliases (恒指, Hang Seng); `instrument` takes a symbol or an alias; "
        "`ordering` takes a field, `-` for descending (ties broken by id).",
        responses={200: s.ForecastSerializer} | error_responses(*READ_ERRORS),
    ),
    retrieve=extend_schema(
        summary="A forecast",
        description="With `supersedes` and `superseded_by`: the strategist's revisions around it.",
        responses={200: s.ForecastDetailSerializer} | error_responses(*READ_ERRORS),
    ),
)
class ForecastViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    """Recorded forecasts with their scores, newest first."""

    serializer_class = s.ForecastSerializer
    filterset_class = ForecastFilter
    filter_backends = [
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        StableOrderingFilter,
    ]
    search_fields = [
        "quote",
        "strategist__name",
        "instrument__symbol",
        "instrument__name",
        "instrument__name_zh_hant",
        "instrument__aliases__name",
    ]
    ordering_fields = ["made_at", "deadline", "resolved_on", "skill", "difficulty", "id"]
    ordering = ["-made_at", "id"]

    def get_queryset(self):
        if self.action in ("correct", "void"):
            return Forecast.all_objects.select_related(
                "strategist", "firm", "source", "instrument", "other_instrument"
            )
        if self.action == "retrieve":
            return with_revisions(published_forecasts())
        return published_forecasts().order_by("-made_at", "id")

    def get_serializer_class(self):
        return s.ForecastDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    def get_permissions(self):
        if self.action in ("correct", "void"):
            return [IsStaff()]
        return super().get_permissions()

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        self.last_modified = queryset.order_by().aggregate(at=Max("updated_at"))["at"]
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        forecast = self.get_object()
        self.last_modified = forecast.updated_at
        return Response(self.get_serializer(forecast).data)

    @extend_schema(
        summary="Correct a forecast's claim (reviewers; 403 for editors)",
        description="Through forecasts.services.forecast_correct: validated by the same rules as when "
        "recording, kept in the history with the reason and the editor, and rescored from the corrected "
        "claim (the forecast goes back to pending first).",
        request=s.CorrectionSerializer,
        responses={200: s.ForecastSerializer} | error_responses(*WRITE_ERRORS),
        examples=[
            OpenApiExample(
                "A mistyped target",
                value={"changes": {"target": 23200}, "reason": "The article says 23,200, not 32,200."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def correct(self, request, pk=None):
        forecast = self.get_object()
        body = s.CorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        forecast = forecast_correct(
            forecast,
            changes=body.validated_data["changes"],
            reason=body.validated_data["reason"],
            actor=request.user,
        )
        return Response(s.ForecastSerializer(forecast).data)

    @extend_schema(
        summary="Void a forecast (reviewers; 403 for editors)",
        description="Through forecasts.services.forecast_void, e.g. for a misquote. It stays on record, "
        "marked void with the reason.",
        request=s.VoidSerializer,
        responses={200: s.ForecastSerializer} | error_responses(*WRITE_ERRORS),
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def void(self, request, pk=None):
        forecast = self.get_object()
        body = s.VoidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        forecast = services.forecast_void(forecast, reason=body.validated_data["reason"], actor=request.user)
        return Response(s.ForecastSerializer(forecast).data)
