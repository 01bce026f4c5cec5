from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path(settings.HINDSIGHT_ADMIN_PATH, admin.site.urls),
    path("api/", include("forecasts.api.urls")),
    path("", include("forecasts.urls")),
]
