"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is built
from the market list in marketdata.schedule so every market refreshes after its
own exchange closes, in its own time zone."""

import logging
import os

from celery import Celery
from celery.signals import task_failure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("hindsight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="ledger")  # forecasts.ledger.publish_head


@task_failure.connect
def _report_failed_task(
    sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **extra
):
    """Mail the admins (settings.ADMINS) when a task fails for good (after its retries)."""
    from django.core.mail import mail_admins

    details = getattr(einfo, "traceback", None) or repr(exception)

    name = getattr(sender, "name", str(sender))
    logging.getLogger("hindsight.tasks").error("task %s %s failed: %r", name, task_id, exception)
    mail_admins(
        f"Task failed: {name}",
        f"Task {name} [{task_id}] failed.\nargs={args!r} kwargs={kwargs!r}\n\n{details}",
        fail_silently=True,
    )


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **kwargs) -> None:
    from celery.schedules import crontab

    from marketdata.schedule import beat_schedule

    sender.conf.beat_schedule = {
        **beat_schedule(),
        # Re-queue scoring for anything still pending (e.g. work not queued while Redis was down).
        "score-all-pending": {"task": "forecasts.tasks.score_all_pending", "schedule": crontab(minute=15)},
        # Expired API tokens (the authentication refuses them; this deletes them).
        "purge-expired-tokens": {
            "task": "forecasts.tasks.purge_expired_tokens",
            "schedule": crontab(minute=40),
        },
        # Re-sign the published ledger head daily, so the newest head is at most a day old.
        "publish-ledger-head": {
            "task": "forecasts.ledger.publish_head",
            "schedule": crontab(minute=5, hour=0),
        },
    }
