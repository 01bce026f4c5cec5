"""The project's URLs plus ``/bench/trivial/``: a view that does no work, the web baseline."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def trivial(request):
    return HttpResponse(b"ok", content_type="text/plain")


# Spliced, not included: the project's i18n_patterns must stay in the root URLconf.
urlpatterns = [path("bench/trivial/", trivial), *project_urlpatterns]
