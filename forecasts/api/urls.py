"""/api/: the public reads, the editors' writes, the OpenAPI schema and its docs (served locally)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from forecasts.api import views

router = DefaultRouter()
router.register("strategists", views.StrategistViewSet, basename="api-strategist")
router.register("firms", views.FirmViewSet, basename="api-firm")
router.register("instruments", views.InstrumentViewSet, basename="api-instrument")
router.register("sources", views.SourceViewSet, basename="api-source")
router.register("forecasts", views.ForecastViewSet, basename="forecast")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", views.SwaggerView.as_view(), name="api-docs"),
    path("auth/login/", views.LoginView.as_view(), name="api-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-logout"),
    path("auth/logoutall/", views.LogoutAllView.as_view(), name="api-logout-all"),
    path("leaderboard/", views.LeaderboardView.as_view(), name="api-leaderboard"),
    path(
        "strategists/<slug:slug>/track-record/",
        views.StrategistTrackRecordView.as_view(),
        name="api-track-record",
    ),
    path(
        "firms/<slug:slug>/track-record/", views.FirmTrackRecordView.as_view(), name="api-firm-track-record"
    ),
    path("", include(router.urls)),
    re_path(r"^(?P<path>[\s\S]*)$", views.not_found, name="api-not-found"),  # any character, newlines too
]
