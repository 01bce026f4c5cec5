from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ForecastsConfig(AppConfig):
    name = "forecasts"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from forecasts import receivers, tasks  # noqa: F401  (registers the tasks queueing sends by name)
        from forecasts.editorial.roles import ensure_roles
        from forecasts.services import dataversion
        from marketdata.signals import bars_changed, history_anchor, prices_written

        # After auth's own post_migrate handler has created the permissions.
        post_migrate.connect(ensure_roles, dispatch_uid="forecasts.ensure_roles")
        # New or revised prices rescore what they can decide; forecasts set how far history must reach.
        bars_changed.connect(receivers.score_on_new_bars, dispatch_uid="forecasts.score_on_new_bars")
        history_anchor.connect(receivers.earliest_forecast, dispatch_uid="forecasts.earliest_forecast")
        # Whatever pages show changed: move the data version the page cache is keyed on.
        post_save.connect(dataversion.on_model_change, dispatch_uid="forecasts.dataversion.save")
        # A forecast saved or deleted: its strategist, firm and instrument aggregates, in its transaction.
        from forecasts.models import Forecast
        from forecasts.services import aggregates

        post_save.connect(aggregates.on_forecast_saved, sender=Forecast, dispatch_uid="forecasts.agg.save")
        post_delete.connect(aggregates.on_forecast_saved, sender=Forecast, dispatch_uid="forecasts.agg.rm")
        post_delete.connect(dataversion.on_model_change, dispatch_uid="forecasts.dataversion.delete")
        prices_written.connect(receivers.bump_data_version, dispatch_uid="forecasts.dataversion.prices")
        # A bundled instrument created from the catalog gets its names (恒指, 恒生指数, Hang Seng) as aliases.
        from forecasts.services.aliases import seed_on_create
        from marketdata.models import Instrument

        post_save.connect(seed_on_create, sender=Instrument, dispatch_uid="forecasts.instrument_aliases")
