"""Track records and leaderboards as they stood at the end of a past date (UTC). Reads only.

A forecast's state "as of" a date D (cut-off: 00:00 UTC on D + 1) is rebuilt from its present
fields and its ForecastEvent history:

- made after the cut-off: absent;
- hit / miss whose deciding session (resolved_on) is after D: pending, resolved fields empty.
  Every calendar's session dated D closes on D in UTC, so "resolved_on <= D" is "decided by then";
- void: counts from the moment it was recorded (the event that set it, or scored_at for a forecast
  without history); recorded after the cut-off, it is pending;
- later knowledge is undone: the first event after the cut-off that is a rescore (price bars were
  revised), an editor's correction, void or judgement, and every event after it, are reverted from
  their recorded `changes` {"field": [old, new]}, newest first. A correction does not record the
  outcome it reset, so when one is undone the outcome is taken from the last event before it.
  The first automatic scoring ("scored") is not later knowledge: the scorer is a pure function of
  bars, and a hit is dated by resolved_on, not by when the job ran.

Difficulty and baseline are not in the history; they are the present values, except that when a
correction of the claim is undone they are unknown (None), since they belonged to the corrected claim.
Skill is outcome - difficulty, as the scorer defines it.

Queries: one for the forecasts, one for their events, plus one for instruments only when a correction of
the instrument is undone. Summaries are computed in Python with the same maths as the live ones
(selectors.summary_from_row), so a date in the future gives the present figures.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils.dateparse import parse_date, parse_datetime

from forecasts.models import Forecast, ForecastEvent, Status
from forecasts.selectors.leaderboards import (
    DIRECTIONAL,
    LeaderboardRow,
    Summary,
    rank_rows,
    subject_refs,
    summary_from_row,
)
from marketdata.models import Instrument

# Events that bring knowledge from after the moment they were recorded.
LATER_KNOWLEDGE = frozenset(
    {
        ForecastEvent.Action.RESCORED,
        ForecastEvent.Action.CORRECTED,
        ForecastEvent.Action.VOIDED,
        ForecastEvent.Action.JUDGED,
    }
)
OUTCOME_FIELDS = ("status", "resolved_on", "resolution_price", "void_reason")
_DATE_FIELDS = ("resolved_on", "deadline")
_DATETIME_FIELDS = ("made_at",)
_INSTRUMENT_FIELDS = ("instrument", "other_instrument")
_OUTCOME_DEFAULTS = {
    "status": Status.PENDING,
    "resolved_on": None,
    "resolution_price": None,
    "void_reason": "",
}


def cutoff(as_of: date) -> datetime:
    """The end of `as_of` in UTC: the instant a point-in-time view stands at."""
    return datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=UTC)


def with_events(forecasts: QuerySet[Forecast]) -> QuerySet[Forecast]:
    """The forecasts with their histories, in one extra query."""
    return forecasts.prefetch_related(
        Prefetch("events", queryset=ForecastEvent.objects.order_by("at", "id"), to_attr="pit_events")
    )


def forecasts_as_of(forecasts: Iterable[Forecast], as_of: date) -> list[Forecast]:
    """Copies of `forecasts` as they stood at the end of `as_of` (UTC); those made later are left out.

    The copies are unsaved Forecast instances (never save them) carrying the point-in-time status,
    resolved_on, resolution_price, void_reason, skill, difficulty and claim fields. The input should come
    from `with_events(...)` so the histories are prefetched; without it, one query per forecast.
    """
    end = cutoff(as_of)
    states, symbols = [], set()
    for forecast in forecasts:
        state, needs = _state(forecast, as_of, end)
        symbols |= needs
        states.append(state)
    if symbols:
        instruments = Instrument.objects.in_bulk(list(symbols), field_name="symbol")
        for state in states:
            for name in _INSTRUMENT_FIELDS:
                symbol = getattr(state, f"_pit_{name}", None)
                if symbol is not None:
                    setattr(state, name, instruments.get(symbol))
    return [s for s in states if s.made_at <= end]


def _state(forecast: Forecast, as_of: date, end: datetime) -> tuple[Forecast, set[str]]:
    events = getattr(forecast, "pit_events", None)
    if events is None:
        events = list(forecast.events.order_by("at", "id"))
    state = copy.copy(forecast)
    state.as_of = as_of
    first_undone = next(
        (i for i, e in enumerate(events) if e.at > end and e.action in LATER_KNOWLEDGE), len(events)
    )
    applied, undone = events[:first_undone], events[first_undone:]
    needs: set[str] = set()
    claim_changed = False
    for event in reversed(undone):
        if event.action not in LATER_KNOWLEDGE and event.action != ForecastEvent.Action.SCORED:
            continue  # "created", "published": the record, not knowledge about the outcome
        for name, change in (event.changes or {}).items():
            if not (isinstance(change, list | tuple) and len(change) == 2) or not hasattr(state, name):
                continue
            if name in _INSTRUMENT_FIELDS:
                claim_changed = True
                setattr(state, f"_pit_{name}", change[0])
                if change[0] is not None:
                    needs.add(change[0])
                continue
            setattr(state, name, _python(name, change[0]))
            claim_changed = claim_changed or name not in OUTCOME_FIELDS
    if any(e.action == ForecastEvent.Action.CORRECTED for e in undone):
        # The correction reset the outcome without recording it: take it from the history before.
        for name in OUTCOME_FIELDS:
            recorded = [e.changes[name] for e in applied if name in (e.changes or {})]
            setattr(state, name, _python(name, recorded[-1][1]) if recorded else _OUTCOME_DEFAULTS[name])
    if claim_changed:
        state.difficulty = state.baseline = state.window_return = state.benchmark_return = None
    _decided_by(state, forecast, applied, as_of, end)
    return state, needs


def _decided_by(state: Forecast, present: Forecast, applied: list, as_of: date, end: datetime) -> None:
    """Apply the 'decided by then' rules and make the score fields consistent with the status."""
    if state.status in (Status.HIT, Status.MISS) and (state.resolved_on is None or state.resolved_on > as_of):
        state.status = Status.PENDING
    if state.status == Status.VOID and state.voided_on is not None:
        # An automatic void holds from the session that triggered it, not from the day the job ran.
        if state.voided_on > as_of:
            state.status = Status.PENDING
        elif not state.void_reason:
            state.void_reason = present.void_reason or "void"
    elif state.status == Status.VOID:
        setters = [e.at for e in applied if (e.changes or {}).get("status", [None, None])[1] == Status.VOID]
        voided_at = setters[-1] if setters else (present.scored_at or present.updated_at)
        if voided_at is not None and voided_at > end:
            state.status = Status.PENDING
        elif not state.void_reason:
            state.void_reason = present.void_reason or "void"
    if state.status not in (Status.HIT, Status.MISS):
        state.resolved_on = state.resolution_price = state.skill = None
        state.window_return = state.benchmark_return = None
    if state.status != Status.VOID:
        state.void_reason = ""
    if state.status == Status.PENDING and present.status != Status.PENDING:
        state.status_note = f"Not decided as of {as_of.isoformat()}."
        state.awaiting_data = False
    if state.status in (Status.HIT, Status.MISS):
        unchanged = state.status == present.status and state.difficulty == present.difficulty
        if unchanged and present.skill is not None:
            state.skill = present.skill
        elif state.difficulty is not None:
            state.skill = (1.0 if state.status == Status.HIT else 0.0) - state.difficulty
        else:
            state.skill = None


def _python(name: str, value):
    """A value from ForecastEvent.changes (JSON) back to the field's Python type."""
    if value is None:
        return None
    if name in _DATE_FIELDS and isinstance(value, str):
        return parse_date(value[:10])
    if name in _DATETIME_FIELDS and isinstance(value, str):
        return parse_datetime(value)
    return value


# --- summaries and the leaderboard ---------------------------------------------------------------------


def summarize_states(states: Iterable[Forecast]) -> Summary:
    """SCORING §4 figures for a list of forecast states: the Python twin of selectors.summarize."""
    counts = (
        "n_total",
        "n_hits",
        "n_misses",
        "n_pending",
        "n_void",
        "n_skill",
        "n_up",
        "n_down",
        "nb_up",
        "nb_down",
    )
    row = dict.fromkeys(counts, 0)
    row.update(
        dict.fromkeys(
            ("skill_sum", "skill_sq", "boldness_sum", "ret_up", "ret_down", "ex_up", "ex_down"), 0.0
        )
    )
    for f in states:
        row["n_total"] += 1
        key = {Status.HIT: "n_hits", Status.MISS: "n_misses", Status.PENDING: "n_pending"}.get(
            f.status, "n_void"
        )
        row[key] += 1
        if f.status not in (Status.HIT, Status.MISS):
            continue
        if f.skill is not None:
            row["n_skill"] += 1
            row["skill_sum"] += f.skill
            row["skill_sq"] += f.skill * f.skill
            # SQL's SUM skips NULLs; so does this.
            row["boldness_sum"] += 1.0 - f.difficulty if f.difficulty is not None else 0.0
        if f.kind in DIRECTIONAL and f.window_return is not None:
            side = "up" if f.kind == DIRECTIONAL[0] else "down"
            row[f"n_{side}"] += 1
            row[f"ret_{side}"] += f.window_return
            if f.benchmark_return is not None:
                row[f"nb_{side}"] += 1
                row[f"ex_{side}"] += f.window_return - f.benchmark_return
    return summary_from_row(row)


@dataclass(frozen=True)
class TrackRecordAsOf:
    summary: Summary
    forecasts: list[Forecast]


def track_record_as_of(forecasts: QuerySet[Forecast], as_of: date) -> TrackRecordAsOf:
    """The forecasts of a track record, and its summary, as they stood at the end of `as_of`."""
    states = forecasts_as_of(with_events(forecasts), as_of)
    return TrackRecordAsOf(summarize_states(states), states)


def leaderboard_as_of(
    forecasts: QuerySet[Forecast],
    as_of: date,
    *,
    min_resolved: int,
    by: str = "strategist",
    status: str = "",
) -> list[LeaderboardRow]:
    """selectors.leaderboard over the forecasts as they stood at the end of `as_of`.

    `status` filters on the point-in-time status (not today's). Three queries.
    """
    if by not in ("strategist", "firm"):
        raise ValueError(f"leaderboard by {by!r}: expected 'strategist' or 'firm'")
    key = f"{by}_id"
    states = forecasts_as_of(with_events(forecasts.filter(**{f"{key}__isnull": False})), as_of)
    groups: dict[int, list[Forecast]] = defaultdict(list)
    for state in states:
        if not status or state.status == status:
            groups[getattr(state, key)].append(state)
    summaries = {k: summarize_states(v) for k, v in groups.items()}
    return rank_rows(summaries, subject_refs(by, list(summaries)), min_resolved=min_resolved)
