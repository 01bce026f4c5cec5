"""Keep the precomputed aggregates (forecasts.models.SubjectAggregate) in step with the forecasts.

Every writer of forecasts reaches `forecasts_changed` with the forecasts it touched, inside its own
transaction, so the aggregates commit (or roll back) with the change and no reader ever sees a board that
disagrees with the forecasts: model saves and deletes through the Forecast signals (the recording service,
corrections, voids, judgements, the admin), and the writers that update querysets directly call it
themselves (the scorer, publication). A refresh is one grouped aggregate per scope over the touched
subjects' forecasts (indexed by strategist / firm / instrument), the same query the live board runs.

`rebuild()` recomputes the whole table (the migration that adds it, `manage.py rebuild_aggregates`, and a
nightly safety net); `check()` compares it with a live computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone

from forecasts.models import Forecast, SubjectAggregate
from forecasts.selectors.leaderboards import EMPTY_FIGURES, aggregate_figures, rank_columns

RANK_FIELDS = tuple(rank_columns(EMPTY_FIGURES))  # the columns rank_columns writes beside the figures

Scope = SubjectAggregate.Scope
_FIELD = {Scope.STRATEGIST: "strategist_id", Scope.FIRM: "firm_id", Scope.INSTRUMENT: "instrument_id"}


def subjects_of(forecasts: Iterable) -> dict[str, set[int]]:
    """The strategists, firms and instruments whose figures the forecasts (models or value dicts) enter."""
    found: dict[str, set[int]] = {scope: set() for scope in _FIELD}
    for f in forecasts:
        for scope, field in _FIELD.items():
            value = f.get(field) if isinstance(f, dict) else getattr(f, field)
            if value is not None:
                found[scope].add(value)
    return found


def subjects_now(forecast: Forecast) -> dict[str, int | None]:
    """Where a forecast stands (its strategist, firm, instrument), to refresh after a change may move it:
    `forecasts_changed([forecast, before])`."""
    return {field: getattr(forecast, field) for field in _FIELD.values()}


# Inside `batched()`: the subjects touched so far, refreshed once when the batch ends.
_batch: ContextVar[dict[str, set[int]] | None] = ContextVar("aggregates_batch", default=None)


def forecasts_changed(forecasts: Iterable) -> None:
    """Refresh the aggregates of every subject the forecasts (models, or `subjects_now` dicts) belong to:
    at once, or at the end of the enclosing `batched()` block."""
    found = subjects_of(forecasts)
    batch = _batch.get()
    if batch is not None:
        for scope, ids in found.items():
            batch[scope] |= ids
        return
    for scope, ids in found.items():
        if ids:
            refresh(scope, ids)


@contextmanager
def batched() -> Iterator[None]:
    """Collect the refreshes of a multi-forecast write (a source with its forecasts, a CSV import) and run
    them once per scope at the end, still inside the caller's transaction. Nested blocks join the outer
    one; an exception skips the refresh (the transaction it belongs to rolls back)."""
    if _batch.get() is not None:
        yield
        return
    token = _batch.set({scope: set() for scope in _FIELD})
    try:
        yield
        collected = _batch.get() or {}
    finally:
        _batch.reset(token)
    if transaction.get_connection().needs_rollback:  # the write is being undone: nothing to refresh
        return
    for scope, ids in collected.items():
        if ids:
            refresh(scope, ids)


# The grouped figures query per subject field, compiled by the ORM once per database and reused with the
# subjects' ids spliced in: compiling its seventeen filtered aggregates cost more than running it (about
# half of the aggregate refresh behind every recorded forecast, measured in bench/load.py's write).
_PROBE = -0x5EED  # an id no subject has: marks where the ids go in the compiled query's parameters
_compiled: dict[tuple[str, str], tuple[str, int, tuple]] = {}


def _grouped(field: str, forecasts: QuerySet[Forecast]) -> QuerySet:
    """One row per subject of `field`: its id and its figures (what SubjectAggregate.figures stores)."""
    return forecasts.values(field).annotate(**aggregate_figures()).order_by()


def live_figures(field: str) -> dict[int, dict]:
    """{subject id: figures} computed by the ORM from every published forecast (check()'s reference)."""
    return {
        row.pop(field): row for row in _grouped(field, Forecast.objects.exclude(**{f"{field}__isnull": True}))
    }


def _figures_query(field: str, using: str) -> tuple[str, int, tuple]:
    """(sql with one `IN (%s)` for the ids, the character offset of that %s, the other parameters)."""
    key = (field, using)
    if key not in _compiled:
        queryset = _grouped(field, Forecast.objects.filter(**{f"{field}__in": [_PROBE]}))
        sql, params = queryset.query.get_compiler(using=using).as_sql()
        at = list(params).index(_PROBE)
        marks = [i for i in range(len(sql)) if sql.startswith("%s", i)]
        if len(marks) != len(params) or sql[marks[at] - 4 : marks[at] + 3] != "IN (%s)":
            raise RuntimeError(f"unexpected compiled figures query for {field}: {sql}")
        _compiled[key] = (sql, marks[at], tuple(params))
    return _compiled[key]


def _figures(field: str, ids: Sequence[int], using: str) -> dict[int, dict]:
    """{subject id: figures} for the subjects with published forecasts: `_grouped`, run from its
    compiled SQL."""
    sql, pos, params = _figures_query(field, using)
    at = params.index(_PROBE)
    sql = sql[:pos] + ", ".join(["%s"] * len(ids)) + sql[pos + 2 :]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [*params[:at], *ids, *params[at + 1 :]])
        names = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    found = {}
    for row in rows:
        subject, *values = row
        found[subject] = {n: type(EMPTY_FIGURES[n])(v) for n, v in zip(names[1:], values, strict=True)}
    return found


def refresh(scope: str, ids: Iterable[int]) -> None:
    ids = sorted(set(ids))
    field = _FIELD[Scope(scope)]
    now = timezone.now()
    using = router.db_for_write(SubjectAggregate)
    # No savepoint: a failure here fails the write it belongs to anyway (nobody catches it and goes on), and
    # the savepoint's two round trips per scope were a tenth of recording one forecast.
    with transaction.atomic(using=using, savepoint=False):
        for start in range(0, len(ids), 2000):
            chunk = ids[start : start + 2000]
            rows = _figures(field, chunk, using)
            if rows:
                SubjectAggregate.objects.bulk_create(
                    [
                        SubjectAggregate(
                            scope=scope, subject_id=k, figures=f, updated_at=now, **rank_columns(f)
                        )
                        for k, f in rows.items()
                    ],
                    update_conflicts=True,
                    unique_fields=["scope", "subject_id"],
                    update_fields=["figures", *RANK_FIELDS, "updated_at"],
                )
            gone = set(chunk) - set(rows)
            if gone:  # no published forecast left: no row (the subject drops off the board)
                # One DELETE, without the collector's SELECT first and without post_delete signals: the
                # model has no relations, and the only receiver (the data version) is moved anyway by the
                # forecast change this refresh belongs to (its model signal, or the scorer's own bump).
                gone_rows = SubjectAggregate.objects.filter(scope=scope, subject_id__in=gone)
                gone_rows._raw_delete(using)


def rebuild() -> int:
    """Recompute every row from the forecasts; returns how many rows there are."""
    with transaction.atomic():
        SubjectAggregate.objects.all().delete()
        for scope, field in _FIELD.items():
            ids = (
                Forecast.objects.exclude(**{f"{field}__isnull": True})
                .values_list(field, flat=True)
                .distinct()
            )
            refresh(scope, list(ids))
    return SubjectAggregate.objects.count()


def check() -> list[str]:
    """Every difference between the table and a live computation (empty: they agree)."""
    problems = []
    for scope, field in _FIELD.items():
        live = live_figures(field)
        stored = {
            row["subject_id"]: row
            for row in SubjectAggregate.objects.filter(scope=scope).values(
                "subject_id", "figures", *RANK_FIELDS
            )
        }
        for k in sorted(set(live) | set(stored)):
            a, row = live.get(k), stored.get(k)
            if a is None or row is None:
                problems.append(f"{scope} {k}: stored {row and row['figures']} != live {a}")
                continue
            b: dict = row["figures"]
            if any(abs((a[n] or 0) - (b.get(n) or 0)) > 1e-9 for n in a):
                problems.append(f"{scope} {k}: stored {b} != live {a}")
            elif (columns := {n: row[n] for n in RANK_FIELDS}) != rank_columns(b):
                problems.append(f"{scope} {k}: rank columns {columns} != {rank_columns(b)} from its figures")
    return problems


def on_forecast_saved(sender, instance, **kwargs) -> None:
    """post_save / post_delete of a Forecast: the subjects it belongs to now. A change that moves it to
    another subject (a correction of its instrument) also refreshes where it was, itself. A draft just
    created enters no figure (they count published forecasts only): nothing to refresh."""
    if kwargs.get("created") and instance.published_at is None:
        return
    forecasts_changed([instance])
