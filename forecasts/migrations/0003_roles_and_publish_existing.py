"""Forecasts recorded before publishing existed count as published.

(The editorial role groups are kept by forecasts.editorial.roles.ensure_roles after every migrate.)
"""

from django.db import migrations
from django.db.models import F


def publish_existing(apps, schema_editor):
    Forecast = apps.get_model("forecasts", "Forecast")
    Forecast.all_objects.filter(published_at__isnull=True).update(published_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("forecasts", "0002_publishing_ledger_aliases")]

    operations = [migrations.RunPython(publish_existing, migrations.RunPython.noop)]
