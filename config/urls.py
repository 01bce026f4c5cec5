from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(settings.HINDSIGHT_ADMIN_PATH, admin.site.urls),
    path("api/", include("forecasts.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("forecasts.urls")),
]
