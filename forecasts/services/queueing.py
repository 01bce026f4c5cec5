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


BATCH_TASK = "forecasts.tasks.score_instrument_batch"


def scoring_enqueue(
    instrument_id: int, *, revised_from: date | str | None = None, incremental: bool = False
) -> bool:
    """Send the scoring task now; False (with a warning) when the broker cannot be reached.
    ``incremental``: only what the sessions completed since the instrument's last run can change (new
    bars, the sweep); ignored with ``revised_from``."""
    revised = revised_from.isoformat() if isinstance(revised_from, date) else revised_from
    kwargs: dict = {"revised_from": revised}
    if incremental and revised is None:
        kwargs["incremental"] = True
    try:
        current_app.tasks[SCORE_TASK].delay(instrument_id, **kwargs)
    except (BrokerError, OSError) as exc:
        log.warning("could not queue scoring for instrument %s (broker down?): %s", instrument_id, exc)
        return False
    return True


def scoring_enqueue_batch(instrument_ids: list[int]) -> bool:
    """Send the incremental rescore of a batch of instruments as one task (False if the broker is down)."""
    try:
        current_app.tasks[BATCH_TASK].delay(list(instrument_ids))
    except (BrokerError, OSError) as exc:
        log.warning("could not queue scoring for %s instruments (broker down?): %s", len(instrument_ids), exc)
        return False
    return True


def scoring_enqueue_on_commit(
    instrument_ids: Iterable[int | None],
    *,
    revised_from: date | str | None = None,
    incremental: bool = False,
) -> None:
    """Queue scoring of each instrument once the current transaction commits (at once outside one).
    ``incremental``: as for scoring_enqueue (new forecasts: never scored, so the incremental rescore
    picks them, and the instrument's other pending forecasts are not all scored again)."""
    for pk in sorted({pk for pk in instrument_ids if pk is not None}):

        def send(pk: int = pk) -> None:
            scoring_enqueue(pk, revised_from=revised_from, incremental=incremental)

        transaction.on_commit(send, robust=True)
