"""The one way to queue scoring.

Every writer (the recording service, corrections, the admin's forms, new or revised price bars announced
by marketdata) asks for scoring here. The task is sent only once the surrounding transaction commits, so
a worker never looks for rows it cannot see yet, and a dead broker never fails the write: the hourly
sweep (`score_all_pending`) picks the work up once the broker is back.

Tasks are sent by name, so this module — and forecasts.services, which uses it — never imports
forecasts.tasks (which imports the services).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

log = logging.getLogger(__name__)

SCORE_TASK = "forecasts.tasks.score_forecasts"


def scoring_enqueue(instrument_id: int, *, revised_from: date | str | None = None) -> bool:
    """Send the scoring task now; False (with a warning) when the broker cannot be reached."""
    revised = revised_from.isoformat() if isinstance(revised_from, date) else revised_from
    try:
        current_app.tasks[SCORE_TASK].delay(instrument_id, revised_from=revised)
    except (BrokerError, OSError) as exc:
        log.warning("could not queue scoring for instrument %s (broker down?): %s", instrument_id, exc)
        return False
    return True


def scoring_enqueue_on_commit(
    instrument_ids: Iterable[int | None], *, revised_from: date | str | None = None
) -> None:
    """Queue scoring of each instrument once the current transaction commits (at once outside one)."""
    for pk in sorted({pk for pk in instrument_ids if pk is not None}):

        def send(pk: int = pk) -> None:
            scoring_enqueue(pk, revised_from=revised_from)

        transaction.on_commit(send, robust=True)
