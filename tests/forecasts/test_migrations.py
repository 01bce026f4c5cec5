"""Data migrations fill what the live code would have written."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from forecasts.selectors.leaderboards import EMPTY_FIGURES, rank_columns


@pytest.mark.django_db(transaction=True)
def test_0011_fills_the_rank_columns_as_rank_columns_computes_them():
    executor = MigrationExecutor(connection)
    before, after = [("forecasts", "0010_home_list_indexes")], [("forecasts", "0011_aggregate_rank_columns")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("forecasts", "SubjectAggregate")
    rows = {
        1: {**EMPTY_FIGURES, "n_total": 1},
        2: {
            **EMPTY_FIGURES,
            "n_total": 5,
            "n_hits": 3,
            "n_misses": 1,
            "n_skill": 4,
            "skill_sum": 0.4,
            "skill_sq": 0.1,
        },
        3: {**EMPTY_FIGURES, "n_total": 3, "n_hits": 3, "n_skill": 3, "skill_sum": 0.9, "skill_sq": 0.27},
    }
    old.objects.bulk_create(old(scope="strategist", subject_id=k, figures=f) for k, f in rows.items())
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("forecasts", "SubjectAggregate")
    fields = ("n_skill", "resolved", "total", "bound", "rank_bound")
    got = {r["subject_id"]: {n: r[n] for n in fields} for r in new.objects.values("subject_id", *fields)}
    assert got == {k: rank_columns(f) for k, f in rows.items()}
    assert got[3]["bound"] is not None and got[1]["bound"] is None
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the database as the other tests expect
    new.objects.all().delete()
