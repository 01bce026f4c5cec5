"""Leaderboard ranks worked out by hand (SCORING §4), checked against every implementation of the board.

The board ranks by the lower bound of mean skill, mean - 1.96 x SE with SE = sample sd / sqrt(n), among those
with at least HINDSIGHT_LEADERBOARD_MIN_RESOLVED scored hits and misses; equal bounds share a rank (the next
rank skips: 1, 2, 2, 4); the rest follow unranked, most resolved first. Skills are set directly, so every
figure below is arithmetic on the table, not another run of the code under test.

    who  skills (outcome - p)               n  mean  sd         lower bound                 rank
    Ada  +.5 +.5 +.5 +.5 (+ pending, void)  4  0.5   0          0.5                         1
    Cy   +.25 +.25 +.25 +.25                4  0.25  0          0.25                        2 (tie)
    Ben  +.25 +.25 +.25                     3  0.25  0          0.25                        2 (tie)
    Dee  +.5 -.5 +.5 -.5                    4  0     sqrt(1/3)  -1.96 x sqrt(1/3)/2 = -0.566  4
    Fay  +.4 +.4, and a hit of unknown p    2  0.4   0          0.4                         - (2 scored)
    Eve  +.9 +.9                            2  0.9   0          0.9                         - (2 scored)

Cy is listed before Ben in the tie (more scored forecasts). Unranked order: Fay (3 resolved) before Eve
(2). With the minimum at 2, Eve (0.9) and Fay (0.4) are ranked too: Eve 1, Ada 2, Fay 3, Cy 4, Ben 4, Dee 6.
"""

import math
import re
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from forecasts import selectors
from forecasts.models import Forecast, Status
from forecasts.selectors import pointintime
from forecasts.services import aggregates
from tests.factories import InstrumentFactory, StrategistFactory, make_forecast

pytestmark = pytest.mark.django_db

# (status, skill) per forecast; skill None = a hit whose difficulty is unknown. "pending"/"void" are unscored.
TABLE = {
    "Ada": [("hit", 0.5)] * 4 + [("pending", None), ("void", None)],
    "Ben": [("hit", 0.25)] * 3,
    "Cy": [("hit", 0.25)] * 4,
    "Dee": [("hit", 0.5), ("miss", -0.5), ("hit", 0.5), ("miss", -0.5)],
    "Eve": [("hit", 0.9)] * 2,
    "Fay": [("hit", 0.4), ("hit", 0.4), ("hit", None)],
}
BY_HAND = [(1, "Ada"), (2, "Cy"), (2, "Ben"), (4, "Dee"), (None, "Fay"), (None, "Eve")]
BY_HAND_MIN_2 = [(1, "Eve"), (2, "Ada"), (3, "Fay"), (4, "Cy"), (4, "Ben"), (6, "Dee")]
BOUNDS = {"Ada": 0.5, "Cy": 0.25, "Ben": 0.25, "Dee": -1.96 * math.sqrt(1 / 3) / 2}
AS_OF = date(2025, 6, 30)  # after every decision below


@pytest.fixture
def table(settings):
    settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED = 3
    cache.clear()
    instrument = InstrumentFactory()
    target = 100.0
    for name, outcomes in TABLE.items():
        strategist = StrategistFactory(name=name, slug=name.lower())
        for i, (status, skill) in enumerate(outcomes):
            target += 1
            f = make_forecast(strategist=strategist, instrument=instrument, target=target)
            decided = status in (Status.HIT, Status.MISS)
            difficulty = None if skill is None else (1.0 if status == Status.HIT else 0.0) - skill
            Forecast.all_objects.filter(pk=f.pk).update(
                status=status,
                skill=skill if decided else None,
                difficulty=difficulty if decided else None,
                resolved_on=date(2025, 3, 3) + timedelta(days=i) if decided else None,
                resolution_price=target if decided else None,
                void_reason="Editor: test" if status == Status.VOID else "",
                scored_at=timezone.now(),
                updated_at=timezone.now(),
            )
    aggregates.rebuild()  # what the scorer does after its queryset updates
    return instrument


def ranks(rows) -> list[tuple[int | None, str]]:
    return [(row.rank, row.subject.name) for row in rows]


def test_the_live_board_matches_the_hand_table(table):
    rows = selectors.leaderboard()
    assert ranks(rows) == BY_HAND
    for row in rows:
        if row.subject.name in BOUNDS:
            assert row.summary.skill.lower_bound == pytest.approx(BOUNDS[row.subject.name], abs=1e-12)
    ada = rows[0].summary
    assert (ada.hits, ada.misses, ada.pending, ada.void, ada.skill.n) == (4, 0, 1, 1, 4)
    fay = next(r.summary for r in rows if r.subject.name == "Fay")
    assert (fay.resolved, fay.skill.n) == (3, 2)  # resolved 3, but only 2 scored: below the minimum


def test_the_point_in_time_board_matches_the_hand_table(table):
    assert ranks(pointintime.leaderboard_as_of(Forecast.objects.all(), AS_OF, min_resolved=3)) == BY_HAND
    # Before any decision nobody is ranked: everything was pending.
    before = pointintime.leaderboard_as_of(Forecast.objects.all(), date(2025, 3, 2), min_resolved=3)
    assert {rank for rank, _ in ranks(before)} == {None} and len(before) == 6


def test_the_minimum_resolved_count_is_the_setting(table, settings):
    assert ranks(selectors.leaderboard(min_resolved=2)) == BY_HAND_MIN_2
    assert (
        ranks(pointintime.leaderboard_as_of(Forecast.objects.all(), AS_OF, min_resolved=2)) == BY_HAND_MIN_2
    )


def _page_ranks(html: str) -> list[tuple[int | None, str]]:
    cells = re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td><a href=\"[^\"]*\">([^<]+)</a>", html)
    return [(None if rank == "—" else int(rank), name) for rank, name in cells]


def test_the_leaderboard_page_matches_the_hand_table(client, table, settings):
    response = client.get("/leaderboard/")
    assert response.status_code == 200
    assert _page_ranks(response.content.decode()) == BY_HAND
    settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED = 2
    cache.clear()
    assert _page_ranks(client.get("/leaderboard/").content.decode()) == BY_HAND_MIN_2


def test_the_api_leaderboard_matches_the_hand_table(client, table, settings):
    body = client.get("/api/leaderboard/").json()
    assert body["min_resolved"] == 3
    assert [(r["rank"], r["name"]) for r in body["results"]] == BY_HAND
    bounds = {r["name"]: r["summary"]["skill_lower_bound"] for r in body["results"]}
    for name, bound in BOUNDS.items():
        assert bounds[name] == pytest.approx(bound, abs=1e-12)
    assert bounds["Eve"] == pytest.approx(0.9) and bounds["Fay"] == pytest.approx(0.4)  # known, but unranked
    as_of = client.get(f"/api/leaderboard/?as_of={AS_OF.isoformat()}").json()
    assert [(r["rank"], r["name"]) for r in as_of["results"]] == BY_HAND
    settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED = 2
    cache.clear()
    body = client.get("/api/leaderboard/").json()
    assert [(r["rank"], r["name"]) for r in body["results"]] == BY_HAND_MIN_2


def test_identical_records_tie_whatever_the_float_rounding():
    from forecasts.stats import skill_summary

    three = skill_summary(3, 0.3 + 0.3 + 0.3, 3 * (0.3 * 0.3))
    four = skill_summary(4, 0.3 * 4, 4 * (0.3 * 0.3))
    assert three.se == 0.0 and round(three.lower_bound, 12) == round(four.lower_bound, 12) == 0.3


@pytest.mark.parametrize("by", ["strategist", "firm"])
@pytest.mark.parametrize("min_resolved", [0, 2, 3, 50])
def test_the_lazy_stored_board_ranks_exactly_as_rank_rows(demo, by, min_resolved):
    """The whole board from the aggregates (built lazily, without a Summary per subject) gives the same rows,
    ranks, ties and order as ranking every subject's full Summary with rank_rows."""
    from forecasts.models import SubjectAggregate
    from forecasts.selectors.leaderboards import (
        Board,
        rank_rows,
        split_board,
        stored_board,
        subject_refs,
        summary_from_row,
    )

    board = stored_board(by, min_resolved=min_resolved)
    assert isinstance(board, Board)
    stored = dict(SubjectAggregate.objects.filter(scope=by).values_list("subject_id", "figures"))
    expected = rank_rows(
        {k: summary_from_row(v) for k, v in stored.items()},
        subject_refs(by, list(stored)),
        min_resolved=min_resolved,
    )
    as_rows = [(r.rank, r.subject, r.summary) for r in board]
    assert as_rows == [(r.rank, r.subject, r.summary) for r in expected]
    ranked, unranked = split_board(board)
    assert len(ranked) + len(unranked) == len(board) == len(expected)
    assert list(ranked) == [r for r in expected if r.rank is not None]
    assert list(unranked[1:3]) == [r for r in expected if r.rank is None][1:3]
    if len(ranked):
        assert ranked[-1] == list(ranked)[-1]


@pytest.mark.parametrize("min_resolved", [2, 3])
def test_the_sql_board_orders_names_and_ties_as_python_does(min_resolved):
    """Equal bounds and counts fall back to the name, in code-point order (a linguistic collation would put
    "adam" before "Zoe" and ignore accents; Python does not), then the id; ties in the rounded bound share a
    rank; the unranked part orders by resolved and total counts."""
    from forecasts.models import SubjectAggregate
    from forecasts.selectors.leaderboards import (
        EMPTY_FIGURES,
        rank_columns,
        rank_rows,
        split_board,
        stored_board,
        subject_refs,
        summary_from_row,
    )

    def figures(skills: list[float], extra_resolved: int = 0) -> dict:
        n = len(skills)
        return {
            **EMPTY_FIGURES,
            "n_total": n + extra_resolved + 1,
            "n_hits": n + extra_resolved,
            "n_pending": 1,
            "n_skill": n,
            "skill_sum": sum(skills),
            "skill_sq": sum(s * s for s in skills),
        }

    people = [
        ("Zoe", [0.3] * 3, 0),
        ("adam", [0.3] * 3, 0),
        ("Ádám", [0.3] * 3, 0),
        ("Adam", [0.1 + 0.2] * 3, 0),  # a bound 0.30000000000000004: the same rank as 0.3
        ("王小明", [0.3] * 4, 0),
        ("Ben", [0.5], 3),  # unranked: one scored, four resolved
        ("ben", [0.5], 1),
        ("Zoe", [], 2),  # a second Zoe: the id decides
        ("Zoe", [], 2),
    ]
    SubjectAggregate.objects.all().delete()  # only these people on the board
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        # The throwaway test cluster is initdb'd with the C locale, which already sorts by code point; a
        # production database usually is not. Give the column a linguistic collation (undone with the test's
        # transaction), so only the board's COLLATE "C" keeps the SQL order equal to Python's.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending trigger events before the ALTER
            cursor.execute(
                'ALTER TABLE forecasts_strategist ALTER COLUMN name TYPE varchar(200) COLLATE "und-x-icu"'
            )
    stored = {}
    for i, (name, skills, extra) in enumerate(people):
        stored[StrategistFactory(name=name, slug=f"s{i}").pk] = figures(skills, extra)
    if postgresql:  # the column's own order really differs from Python's
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM forecasts_strategist WHERE id = ANY(%s) ORDER BY name", [list(stored)]
            )
            linguistic = [r[0] for r in cursor.fetchall()]
        assert linguistic != sorted(linguistic)
    SubjectAggregate.objects.bulk_create(
        SubjectAggregate(scope="strategist", subject_id=pk, figures=f, **rank_columns(f))
        for pk, f in stored.items()
    )
    expected = rank_rows(
        {k: summary_from_row(v) for k, v in stored.items()},
        subject_refs("strategist", list(stored)),
        min_resolved=min_resolved,
    )
    board = stored_board("strategist", min_resolved=min_resolved)
    assert [(r.rank, r.subject.name) for r in board] == [(r.rank, r.subject.name) for r in expected]
    assert list(board) == expected
    ranked, unranked = split_board(board)
    assert list(ranked[1:4]) == [r for r in expected if r.rank is not None][1:4]
    assert list(unranked) == [r for r in expected if r.rank is None]
    # The four bounds of 0.3 (one of them 0.30000000000000004 apart) are one rank.
    assert len({r.rank for r in ranked if r.summary.skill.n == 3}) == 1
