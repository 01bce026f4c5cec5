from django.urls import include, path
from rest_framework.routers import DefaultRouter

from forecasts.api import views

router = DefaultRouter()
router.register("forecasts", views.ForecastViewSet, basename="forecast")

urlpatterns = [
    path("strategists/<slug:slug>/track-record/", views.strategist_track_record, name="api-track-record"),
    path("", include(router.urls)),
]
