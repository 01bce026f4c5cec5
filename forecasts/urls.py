from django.urls import path

from forecasts.site import views
from forecasts.site.feeds import ResolutionsFeed

urlpatterns = [
    path("", views.home_page, name="home"),
    path("leaderboard/", views.leaderboard_page, name="leaderboard"),
    path("firms/", views.firm_list_page, name="firm-list"),
    path("firms/<slug:slug>/", views.firm_page, name="firm-detail"),
    path("strategists/<slug:slug>/", views.strategist_page, name="strategist-detail"),
    path("strategists/<slug:slug>/track-record.csv", views.track_record_csv, name="strategist-csv"),
    path("forecasts/<int:pk>/", views.forecast_page, name="forecast-detail"),
    path("instruments/<str:symbol>/", views.instrument_page, name="instrument-detail"),
    path("sources/<int:pk>/", views.source_page, name="source-detail"),
    path("methodology/", views.methodology_page, name="methodology"),
    path("search/", views.search_page, name="search"),
    path("feeds/resolutions/", ResolutionsFeed(), name="feed-resolutions"),
]
