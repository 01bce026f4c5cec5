from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ForecastsConfig(AppConfig):
    name = "forecasts"

    def ready(self) -> None:
        from forecasts.roles import ensure_roles

        # After auth's own post_migrate handler has created the permissions.
        post_migrate.connect(ensure_roles, dispatch_uid="forecasts.ensure_roles")
