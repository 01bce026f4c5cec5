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
from django.conf import settings
from django.core.cache import cache
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
    coalesce = incremental and revised is None
    if coalesce:
        kwargs["incremental"] = True
        if _waiting(instrument_id):
            return True  # a queued incremental rescore that has not started yet will read this commit
    # A coalesced run waits a moment, so that a burst of writes shares it (with eager tasks: at once).
    countdown = settings.HINDSIGHT_SCORING_DEBOUNCE_SECONDS if coalesce else None
    try:
        current_app.tasks[SCORE_TASK].apply_async((instrument_id,), kwargs, countdown=countdown)
    except (BrokerError, OSError) as exc:
        log.warning("could not queue scoring for instrument %s (broker down?): %s", instrument_id, exc)
        if coalesce:
            scoring_started(instrument_id)  # nothing is waiting after all
        return False
    return True


# Coalescing (issue 13, make load): editors recording a burst of forecasts on one instrument queue one
# incremental rescore, not one per forecast. A key in the shared Redis marks "an incremental rescore of
# this instrument is queued and has not started"; the task deletes it before it reads anything, so a
# writer that finds the key set committed before that read and its forecast is seen. Only with the shared
# cache and a real worker (eager tasks run inline; a local-memory cache is not shared with the worker).
# If the task is lost with its key set, writes for that instrument go unqueued for at most the key's
# lifetime; the hourly sweep (`score_all_pending`) scores them in any case. The run is sent with a short
# countdown (HINDSIGHT_SCORING_DEBOUNCE_SECONDS, 1 s): an idle worker would otherwise start each one at
# once, clear the mark, and every write would pay the run's fixed cost (about 22 ms: the instrument's
# pending rows, calendar, bars) — a new forecast shows as scored a second later instead.
COALESCE_SECONDS = 120


def _waiting_key(instrument_id: int) -> str:
    return f"hindsight:scoring-waiting:{instrument_id}"


def _waiting(instrument_id: int) -> bool:
    """True if an incremental rescore of the instrument is queued and not started (then nothing to send);
    otherwise claims the mark for the task about to be sent. False whenever it cannot tell."""
    claim = getattr(cache, "claim", None)
    if claim is None or settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    return claim(_waiting_key(instrument_id), COALESCE_SECONDS) is False


def scoring_started(instrument_id: int) -> None:
    """The incremental rescore calls this before it reads: later writes must queue another one."""
    if hasattr(cache, "claim"):
        cache.delete(_waiting_key(instrument_id))


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
