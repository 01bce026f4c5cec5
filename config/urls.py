from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on every page that names none (the admin's, for one).
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("forecasts/favicon.svg"))),
    path(settings.HINDSIGHT_ADMIN_PATH, admin.site.urls),
    path("api/", include("forecasts.api.urls")),
    path("", include("forecasts.urls_unprefixed")),
]
# The public site in every language: English at /, Chinese under /zh-hant/ and /zh-hans/.
urlpatterns += i18n_patterns(path("", include("forecasts.urls")), prefix_default_language=False)
