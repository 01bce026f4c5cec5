"""Machine-read endpoints that have no language: the same bytes under every prefix would only split caches."""

from django.urls import path

from forecasts.site import ledger_views

urlpatterns = [
    path("ledger/head.json", ledger_views.head_json, name="ledger-head"),
    path("ledger/key.json", ledger_views.key_json, name="ledger-key"),
    path("ledger/entries.json", ledger_views.entries_json, name="ledger-entries"),
]
