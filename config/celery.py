"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is built
from the market list in marketdata.schedule so every market refreshes after its
own exchange closes, in its own time zone."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("hindsight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **kwargs) -> None:
    from marketdata.schedule import beat_schedule

    sender.conf.beat_schedule = beat_schedule()
