from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ForecastsConfig(AppConfig):
    name = "forecasts"

    def ready(self) -> None:
        from forecasts import receivers, tasks  # noqa: F401  (registers the tasks queueing sends by name)
        from forecasts.editorial.roles import ensure_roles
        from marketdata.signals import bars_changed, history_anchor

        # After auth's own post_migrate handler has created the permissions.
        post_migrate.connect(ensure_roles, dispatch_uid="forecasts.ensure_roles")
        # New or revised prices rescore what they can decide; forecasts set how far history must reach.
        bars_changed.connect(receivers.score_on_new_bars, dispatch_uid="forecasts.score_on_new_bars")
        history_anchor.connect(receivers.earliest_forecast, dispatch_uid="forecasts.earliest_forecast")
