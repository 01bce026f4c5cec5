"""The public API (reads) and the editors' API (writes, with a token). Views only parse, call selectors /
services and shape the answer."""

from __future__ import annotations

from dataclasses import replace

import django_filters
from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Max, Prefetch, QuerySet
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.urls import Resolver404, resolve
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularSwaggerView, _get_sidecar_url
from knox.views import LoginView as KnoxLoginView
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import exceptions, filters, mixins, permissions, status, viewsets
from rest_framework.authentication import BasicAuthentication
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from forecasts import services
from forecasts.api import serializers as s
from forecasts.api.conventions import (
    AS_OF_PARAMETER,
    FORMAT_PARAMETER,
    READ_ERRORS,
    WRITE_ERRORS,
    ApiView,
    BarPagination,
    StableOrderingFilter,
    TrackRecordCSVRenderer,
    error_responses,
)
from forecasts.api.errors import error_body
from forecasts.api.writes import forecast_correct, source_record
from forecasts.models import Firm, Forecast, Kind, Source, Status, Strategist
from forecasts.selectors import ForecastFilters, filter_forecasts, leaderboard, pointintime, summarize
from forecasts.selectors.outlook import instrument_outlook
from marketdata.models import CalendarCode, Instrument

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
    """What forecasts are about. `?market=XHKG`, `?asset_class=`, `?search=` (symbol, name)."""

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
    search_fields = ["symbol", "name"]
    ordering_fields = ["symbol", "name"]

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
        source = self.get_queryset().get(pk=result.source.pk)
        forecasts = [item.forecast for item in result.items]
        for forecast in forecasts:
            forecast.refresh_from_db()
        return Response(
            {
                "source": s.SourceSerializer(source).data,
                "forecasts": s.ForecastSerializer(forecasts, many=True).data,
                "created": [item.created for item in result.items],
                "held_for_review": [item.forecast.published_at is None for item in result.items],
            },
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


# --- forecasts ---------------------------------------------------------------------------------------


class ForecastFilter(django_filters.FilterSet):
    strategist = django_filters.CharFilter(field_name="strategist__slug", help_text="Strategist slug.")
    firm = django_filters.CharFilter(field_name="firm__slug", help_text="Firm slug (the firm when made).")
    instrument = django_filters.CharFilter(field_name="instrument__symbol", help_text="Instrument symbol.")
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
        "`search` looks in the quote, the strategist's name and the instrument's symbol and name; "
        "`ordering` takes a field, `-` for descending (ties broken by id).",
        responses={200: s.ForecastSerializer} | error_responses(*READ_ERRORS),
    ),
    retrieve=extend_schema(
        summary="A forecast", responses={200: s.ForecastSerializer} | error_responses(*READ_ERRORS)
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
    search_fields = ["quote", "strategist__name", "instrument__symbol", "instrument__name"]
    ordering_fields = ["made_at", "deadline", "resolved_on", "skill", "difficulty", "id"]
    ordering = ["-made_at", "id"]

    def get_queryset(self):
        if self.action in ("correct", "void"):
            return Forecast.all_objects.select_related(
                "strategist", "firm", "source", "instrument", "other_instrument"
            )
        return published_forecasts().order_by("-made_at", "id")

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


# --- track records and the leaderboard --------------------------------------------------------------

TRACK_RECORD_EXAMPLE = {
    "strategist": {
        "slug": "alvin-ngan",
        "name": "Alvin Ngan",
        "firm": "Zhongtai Financial International",
        "title": "",
    },
    "as_of": None,
    "summary": {
        "forecasts": 1,
        "resolved": 1,
        "hits": 1,
        "misses": 0,
        "pending": 0,
        "void": 0,
        "hit_rate": 1.0,
        "hit_rate_wilson_low": 0.2065,
        "hit_rate_wilson_high": 1.0,
        "skill_scored": 1,
        "mean_skill": 0.62,
        "mean_skill_se": None,
        "skill_points": 0.62,
        "skill_lower_bound": None,
        "mean_boldness": 0.62,
        "mean_directional_return": None,
        "mean_directional_excess_return": None,
    },
    "forecasts": ["..."],
}


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
    "parameters": [AS_OF_PARAMETER, FORMAT_PARAMETER],
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
            rows = leaderboard(forecasts, by=by, min_resolved=min_resolved)
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
    pagination_class = None

    @extend_schema(
        summary="Revoke this token",
        request=None,
        responses={204: OpenApiResponse(description="Revoked.")} | error_responses(401, 406, 429),
    )
    def post(self, request, format=None):
        return super().post(request, format=format)


class LogoutAllView(ApiView, KnoxLogoutAllView):
    pagination_class = None

    @extend_schema(
        summary="Revoke all of this user's tokens",
        request=None,
        responses={204: OpenApiResponse(description="Revoked.")} | error_responses(401, 406, 429),
    )
    def post(self, request, format=None):
        return super().post(request, format=format)


# --- docs, served from our own static files ------------------------------------------------------------


class SwaggerView(SpectacularSwaggerView):
    """Swagger UI from drf-spectacular-sidecar's bundled files: no CDN."""

    url_name = "api-schema"

    @staticmethod
    def _swagger_ui_resource(filename):
        return _get_sidecar_url(f"swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon():
        return _get_sidecar_url("swagger-ui-dist/favicon-32x32.png")


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([permissions.AllowAny])
def not_found(request, path: str = ""):
    """Anything else under /api/: the one error format (or the slash-appended URL, as Django would)."""
    if not request.path.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
    return Response(error_body(404, "not_found", "No such API endpoint."), status=404)
