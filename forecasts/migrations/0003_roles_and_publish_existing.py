"""Editors and reviewers as groups; forecasts recorded before publishing existed count as published."""

from django.db import migrations
from django.db.models import F

ROLES = {
    "Editors": [
        ("forecasts", "add_forecast"), ("forecasts", "change_forecast"), ("forecasts", "view_forecast"),
        ("forecasts", "add_source"), ("forecasts", "change_source"), ("forecasts", "view_source"),
        ("forecasts", "add_strategist"), ("forecasts", "change_strategist"), ("forecasts", "view_strategist"),
        ("forecasts", "add_firm"), ("forecasts", "change_firm"), ("forecasts", "view_firm"),
        ("forecasts", "add_alias"), ("forecasts", "change_alias"), ("forecasts", "view_alias"),
        ("marketdata", "view_instrument"), ("marketdata", "add_instrument"),
    ],
    "Reviewers": [
        ("forecasts", "view_forecast"), ("forecasts", "change_forecast"), ("forecasts", "publish_forecast"),
        ("forecasts", "void_forecast"), ("forecasts", "judge_forecast"), ("forecasts", "view_source"),
        ("forecasts", "view_strategist"), ("forecasts", "view_firm"), ("forecasts", "view_ledgerentry"),
        ("marketdata", "view_instrument"),
    ],
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def publish_existing(apps, schema_editor):
    Forecast = apps.get_model("forecasts", "Forecast")
    Forecast.all_objects.filter(published_at__isnull=True).update(published_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("forecasts", "0002_publishing_ledger_aliases"),
        ("marketdata", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(publish_existing, migrations.RunPython.noop),
    ]
