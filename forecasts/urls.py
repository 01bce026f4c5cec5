from django.urls import path

from forecasts import views

urlpatterns = [
    path("", views.leaderboard_page, name="leaderboard"),
    path("strategists/<slug:slug>/", views.strategist_page, name="strategist-detail"),
    path("forecasts/<int:pk>/", views.forecast_page, name="forecast-detail"),
]
