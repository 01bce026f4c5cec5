"""Reads: leaderboards and track records (SCORING §4). No writes here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from forecasts.models import Firm, Forecast, Kind, Status, Strategist, SubjectAggregate
from forecasts.stats import SkillSummary, skill_lower_bound, skill_summary, wilson_interval
from marketdata.models import Instrument

DIRECTIONAL = (Kind.DIRECTION_UP, Kind.DIRECTION_DOWN)


@dataclass(frozen=True)
class Summary:
    """SCORING §4 figures for any group of forecasts (a strategist, a firm, ...)."""

    total: int
    hits: int
    misses: int
    pending: int
    void: int
    hit_rate: float | None
    hit_rate_interval: tuple[float, float] | None
    skill: SkillSummary
    mean_boldness: float | None
    mean_directional_return: float | None
    mean_directional_excess_return: float | None = None  # the same, less the benchmark's return

    @property
    def resolved(self) -> int:
        return self.hits + self.misses

    def as_dict(self) -> dict:
        low, high = self.hit_rate_interval or (None, None)
        return {
            "forecasts": self.total,
            "resolved": self.resolved,
            "hits": self.hits,
            "misses": self.misses,
            "pending": self.pending,
            "void": self.void,
            "hit_rate": self.hit_rate,
            "hit_rate_wilson_low": low,
            "hit_rate_wilson_high": high,
            "skill_scored": self.skill.n,
            "mean_skill": self.skill.mean,
            "mean_skill_se": self.skill.se,
            "skill_points": self.skill.total,
            "skill_lower_bound": self.skill.lower_bound,
            "mean_boldness": self.mean_boldness,
            "mean_directional_return": self.mean_directional_return,
            "mean_directional_excess_return": self.mean_directional_excess_return,
        }


def _float_sum(expression, condition: Q):
    return Coalesce(Sum(expression, filter=condition), 0.0, output_field=FloatField())


def aggregate_figures() -> dict:
    """The aggregate expressions of a Summary (also what SubjectAggregate.figures stores)."""
    resolved = Q(status__in=[Status.HIT, Status.MISS])
    scored = resolved & Q(skill__isnull=False)
    figures = {
        "n_total": Count("id"),
        "n_hits": Count("id", filter=Q(status=Status.HIT)),
        "n_misses": Count("id", filter=Q(status=Status.MISS)),
        "n_pending": Count("id", filter=Q(status=Status.PENDING)),
        "n_void": Count("id", filter=Q(status=Status.VOID)),
        "n_skill": Count("id", filter=scored),
        "skill_sum": _float_sum("skill", scored),
        "skill_sq": _float_sum(F("skill") * F("skill"), scored),
        "boldness_sum": _float_sum(1.0 - F("difficulty"), scored),
    }
    # Directional calls (SCORING §4): the return since the call, and the same less the market's benchmark.
    for side, kind in (("up", Kind.DIRECTION_UP), ("down", Kind.DIRECTION_DOWN)):
        called = resolved & Q(kind=kind, window_return__isnull=False)
        benchmarked = called & Q(benchmark_return__isnull=False)
        figures[f"n_{side}"] = Count("id", filter=called)
        figures[f"ret_{side}"] = _float_sum("window_return", called)
        figures[f"nb_{side}"] = Count("id", filter=benchmarked)
        figures[f"ex_{side}"] = _float_sum(F("window_return") - F("benchmark_return"), benchmarked)
    return figures


def summary_from_row(row: dict) -> Summary:
    """A Summary from one row of the aggregates (also used by the point-in-time summaries)."""
    hits, misses = row["n_hits"], row["n_misses"]
    resolved = hits + misses
    n_dir, n_bench = row["n_up"] + row["n_down"], row["nb_up"] + row["nb_down"]
    return Summary(
        total=row["n_total"],
        hits=hits,
        misses=misses,
        pending=row["n_pending"],
        void=row["n_void"],
        hit_rate=hits / resolved if resolved else None,
        hit_rate_interval=wilson_interval(hits, resolved),
        skill=skill_summary(row["n_skill"], row["skill_sum"], row["skill_sq"]),
        mean_boldness=row["boldness_sum"] / row["n_skill"] if row["n_skill"] else None,
        # A call's return in the direction it predicted (a fall counts as a gain for direction_down).
        mean_directional_return=(row["ret_up"] - row["ret_down"]) / n_dir if n_dir else None,
        mean_directional_excess_return=(row["ex_up"] - row["ex_down"]) / n_bench if n_bench else None,
    )


def summarize(forecasts: QuerySet[Forecast]) -> Summary:
    """One aggregate query over any set of forecasts."""
    return summary_from_row(forecasts.aggregate(**aggregate_figures()))


EMPTY_FIGURES = {
    name: 0.0 if name.startswith(("skill", "boldness", "ret_", "ex_")) else 0 for name in aggregate_figures()
}


def stored_summary(scope: str, subject_id: int) -> Summary:
    """The Summary of all of a strategist's / firm's / instrument's published forecasts, from the
    precomputed aggregates (one indexed row; forecasts.services.aggregates keeps it)."""
    row = (
        SubjectAggregate.objects.filter(scope=scope, subject_id=subject_id)
        .values_list("figures", flat=True)
        .first()
    )
    return summary_from_row(row or EMPTY_FIGURES)


@dataclass(frozen=True)
class ForecastFilters:
    """The filters every leaderboard and list shares (pages and API alike). Empty means no filter."""

    market: str = ""  # calendar code, e.g. XHKG
    instrument: str = ""  # symbol (or alias: 恒指)
    firm: str = ""  # firm slug
    strategist: str = ""  # strategist slug
    kind: str = ""
    status: str = ""
    made_from: date | None = None  # inclusive, UTC date of made_at
    made_to: date | None = None  # inclusive


def instruments_named(name: str) -> QuerySet:
    """The instrument a symbol or alias names (HSI, 恒指, 恒生指数, Hang Seng), as a subquery: no query of its
    own, and a forecast list filtered by it has no duplicate rows."""
    name = " ".join(name.split())
    return Instrument.objects.filter(
        Q(symbol=name) | Q(aliases__target="instrument", aliases__name__iexact=name)
    ).values("pk")


def filter_forecasts(forecasts: QuerySet[Forecast], f: ForecastFilters) -> QuerySet[Forecast]:
    if f.market:
        forecasts = forecasts.filter(instrument__calendar_code=f.market)
    if f.instrument:
        forecasts = forecasts.filter(instrument__in=instruments_named(f.instrument))
    if f.firm:
        forecasts = forecasts.filter(firm__slug=f.firm)
    if f.strategist:
        forecasts = forecasts.filter(strategist__slug=f.strategist)
    if f.kind:
        forecasts = forecasts.filter(kind=f.kind)
    if f.status:
        forecasts = forecasts.filter(status=f.status)
    if f.made_from:
        forecasts = forecasts.filter(made_at__date__gte=f.made_from)
    if f.made_to:
        forecasts = forecasts.filter(made_at__date__lte=f.made_to)
    return forecasts


@dataclass(frozen=True, slots=True)
class FirmRef:
    """What a board row shows of a firm: a plain value, not a model instance (a board at full scale has 20,000
    rows, and it is kept in the cache: model instances cost seconds to build and to pickle)."""

    pk: int
    name: str
    slug: str

    def get_absolute_url(self) -> str:
        return reverse("firm-detail", args=[self.slug])

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class StrategistRef:
    pk: int
    name: str
    slug: str
    firm: FirmRef | None

    def get_absolute_url(self) -> str:
        return reverse("strategist-detail", args=[self.slug])

    def __str__(self) -> str:
        return self.name


def _subject_tuples(by: str, ids: list[int] | QuerySet) -> dict[int, tuple]:
    """(pk, name, slug[, firm pk, firm name, firm slug]) by id: one query, plain values."""
    if by == "firm":
        return {t[0]: t for t in Firm.objects.filter(pk__in=ids).values_list("pk", "name", "slug")}
    rows = Strategist.objects.filter(pk__in=ids).values_list(
        "pk", "name", "slug", "firm_id", "firm__name", "firm__slug"
    )
    return {t[0]: t for t in rows}


def _ref(t: tuple) -> StrategistRef | FirmRef:
    if len(t) == 3:
        return FirmRef(*t)
    pk, name, slug, firm_id, firm_name, firm_slug = t
    return StrategistRef(pk, name, slug, FirmRef(firm_id, firm_name, firm_slug) if firm_id else None)


def subject_refs(by: str, ids: list[int] | QuerySet) -> dict[int, StrategistRef | FirmRef]:
    """The board's subjects by id, as plain values (one query)."""
    return {pk: _ref(t) for pk, t in _subject_tuples(by, ids).items()}


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int | None  # None: fewer resolved forecasts than the minimum
    subject: StrategistRef | FirmRef
    summary: Summary

    @property
    def strategist(self) -> Strategist:  # templates written for the strategist board
        return self.subject


def leaderboard(
    forecasts: QuerySet[Forecast] | None = None, *, min_resolved: int | None = None, by: str = "strategist"
) -> Sequence[LeaderboardRow]:
    """Strategists (or firms, by="firm") ranked by the lower bound of mean skill (mean - 1.96 SE).

    Only those with at least `min_resolved` scored hits/misses get a rank; the
    rest follow, unranked, by resolved count. Ties share a rank. Two queries
    regardless of the number of rows.
    """
    if by not in ("strategist", "firm"):
        raise ValueError(f"leaderboard by {by!r}: expected 'strategist' or 'firm'")
    min_resolved = settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED if min_resolved is None else min_resolved
    key = f"{by}_id"
    if forecasts is None:
        # Every published forecast: from the precomputed aggregates, one small row per subject.
        return stored_board(by, min_resolved=min_resolved)
    rows = (
        forecasts.filter(**{f"{key}__isnull": False}).values(key).annotate(**aggregate_figures()).order_by()
    )
    summaries = {row[key]: summary_from_row(row) for row in rows}
    return rank_rows(summaries, subject_refs(by, list(summaries)), min_resolved=min_resolved)


RANK_DIGITS = 12  # bounds equal to this many places share a rank (floating-point noise is not skill)


def rank_columns(figures: dict) -> dict:
    """The SubjectAggregate columns the stored board ranks by, from one row of figures."""
    n = figures["n_skill"]
    bound = skill_lower_bound(n, figures["skill_sum"], figures["skill_sq"])
    return {
        "n_skill": n,
        "resolved": figures["n_hits"] + figures["n_misses"],
        "total": figures["n_total"],
        "bound": bound,
        "rank_bound": None if bound is None else round(bound, RANK_DIGITS),
    }


class BoardPart(Sequence):
    """A part of the stored board (the ranked, the unranked, or the whole), read from SQL a slice at a time:
    a slice is one ORDER BY ... LIMIT, so a page of a board with 20,000 subjects costs what a page of one
    with 20 does."""

    __slots__ = ("by", "length", "need", "part")

    def __init__(self, by: str, need: int, *, part: str, length: int) -> None:
        self.by, self.need, self.part, self.length = by, need, part, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i):
        if isinstance(i, slice):
            lo, hi, step = i.indices(len(self))
            rows = _board_rows(self.by, self.need, self.part, lo, hi) if hi > lo else []
            return rows[::step] if step != 1 else rows
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return _board_rows(self.by, self.need, self.part, i, i + 1)[0]

    def __iter__(self):  # one query for the whole part, not one per row
        return iter(self[:])


_AGGREGATES = SubjectAggregate._meta.db_table
_SUBJECT_COLUMNS = {
    "strategist": ("s.id", "s.name", "s.slug", "s.firm_id", "f.name", "f.slug"),
    "firm": ("s.id", "s.name", "s.slug"),
}
_ELIGIBLE = "a.bound IS NOT NULL AND a.n_skill >= %s"  # ranked: a bound and at least `need` scored


def _board_rows(by: str, need: int, part: str, lo: int, hi: int) -> list[LeaderboardRow]:
    """Rows lo..hi of a stored board part, ordered and ranked in SQL exactly as board_order does: the
    eligible by bound (higher first), scored count, name (code points), id, ties in the rounded bound
    sharing the first one's rank (RANK over the whole part, before the LIMIT); then the rest by resolved
    and total counts, name, id."""
    subject = ", ".join(_SUBJECT_COLUMNS[by])
    only = {"ranked": f" AND {_ELIGIBLE}", "unranked": f" AND NOT ({_ELIGIBLE})", "all": ""}[part]
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""  # names as Python sorts str
    figures = "CAST(a.figures AS text)" if connection.vendor == "postgresql" else "a.figures"

    def order(t: str) -> str:
        return (
            f"{t}el DESC, CASE WHEN {t}el = 1 THEN {t}bound END DESC, "
            f"CASE WHEN {t}el = 1 THEN {t}n_skill ELSE {t}resolved END DESC, "
            f"CASE WHEN {t}el = 0 THEN {t}total END DESC, {t}nm{collate}, {t}sid"
        )

    # Ranked and cut to the page over narrow rows (ids, counts, bound, name); the figures and the rest of
    # the subject are joined for the page's rows only.
    sql = (
        f"SELECT p.rk, {subject}, {figures} FROM ("
        "SELECT aid, sid, nm, el, bound, n_skill, resolved, total, "
        "CASE WHEN el = 1 THEN RANK() OVER (PARTITION BY el ORDER BY rank_bound DESC) END AS rk FROM ("
        f"SELECT a.id AS aid, s.id AS sid, s.name AS nm, CASE WHEN {_ELIGIBLE} THEN 1 ELSE 0 END AS el, "
        "a.bound, a.rank_bound, a.n_skill, a.resolved, a.total "
        f"FROM {_AGGREGATES} a JOIN {_subjects(by)} s ON s.id = a.subject_id WHERE a.scope = %s{only}) b "
        f"ORDER BY {order('b.')} LIMIT %s OFFSET %s) p "
        f"JOIN {_AGGREGATES} a ON a.id = p.aid {_join(by)} ORDER BY {order('p.')}"
    )
    params = [need, by] + ([need] if only else []) + [hi - lo, lo]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if not found:
        return []
    k = len(_SUBJECT_COLUMNS[by])
    decoded = json.loads("[" + ",".join(row[-1] for row in found) + "]")  # one decode for the page
    return [
        LeaderboardRow(row[0], _ref(tuple(row[1 : 1 + k])), summary_from_row(d))
        for row, d in zip(found, decoded, strict=True)
    ]


def _counts(by: str, need: int) -> tuple[int, int]:
    """(ranked, unranked) subjects of a stored board: one query for both parts."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {_ELIGIBLE} THEN 1 ELSE 0 END), 0) "
            f"FROM {_AGGREGATES} a {_join(by)} WHERE a.scope = %s",
            [need, by],
        )
        total, ranked = cursor.fetchone()
    return int(ranked), int(total) - int(ranked)


def _subjects(by: str) -> str:
    return (Strategist if by == "strategist" else Firm)._meta.db_table


def _join(by: str) -> str:
    join = f"JOIN {_subjects(by)} s ON s.id = a.subject_id"
    if by == "strategist":
        join += f" LEFT JOIN {Firm._meta.db_table} f ON f.id = s.firm_id"
    return join


class Board(BoardPart):
    """The whole unfiltered board (every published forecast), ranked as rank_rows ranks, read lazily from the
    precomputed aggregates' rank columns: the ranked subjects, then the unranked. Nothing is built for the
    rows a page does not show, and nothing needs caching: a board page at a million forecasts is three small
    queries (the counts, a page of the ranked, the top of the unranked)."""

    __slots__ = ("n_ranked",)

    def __init__(self, by: str, min_resolved: int) -> None:
        need = max(min_resolved, 2)
        self.n_ranked, n_unranked = _counts(by, need)
        super().__init__(by, need, part="all", length=self.n_ranked + n_unranked)

    def ranked(self) -> BoardPart:
        return BoardPart(self.by, self.need, part="ranked", length=self.n_ranked)

    def unranked(self) -> BoardPart:
        return BoardPart(self.by, self.need, part="unranked", length=self.length - self.n_ranked)


def split_board(rows) -> tuple[Sequence, Sequence]:
    """(ranked rows, unranked rows) of any board; lazy for a Board."""
    if isinstance(rows, Board):
        return rows.ranked(), rows.unranked()
    return [r for r in rows if r.rank is not None], [r for r in rows if r.rank is None]


def stored_board(by: str, *, min_resolved: int) -> Board:
    """The board over every published forecast, from the precomputed aggregates: one COUNT now, one query
    per page read."""
    return Board(by, min_resolved)


def filtered_leaderboard(
    f: ForecastFilters, *, by: str = "strategist", min_resolved: int | None = None
) -> Sequence[LeaderboardRow]:
    """The board over what the filters select (pages and API alike): with no filter, from the precomputed
    aggregates; otherwise aggregated over the filtered forecasts."""
    forecasts = None if f == ForecastFilters() else filter_forecasts(Forecast.objects.all(), f)
    return leaderboard(forecasts, by=by, min_resolved=min_resolved)


class RankKey(NamedTuple):
    """What ranking a subject needs: its skill bound (None: not eligible), scored / resolved / total counts
    and name."""

    subject_id: int
    bound: float | None
    n_skill: int
    resolved: int
    total: int
    name: str


def board_order(keys: Iterable[tuple]) -> list[tuple[int | None, int]]:
    """(rank or None, subject id) in board order: the eligible by bound (higher first), then scored count,
    then name, ties in the rounded bound sharing a rank; then the rest by resolved and total counts, then
    name; then subject id, so equal keys come in one order everywhere. The one ranking of every board built
    in Python (live, filtered, point in time); the stored board runs the same keys in SQL (_board_rows), and
    tests/forecasts/selectors/test_ranking.py holds the two to the same rows.

    `keys` are RankKeys or plain tuples in the same field order: hence the indexes below."""
    keys = list(keys)
    ranked = sorted((k for k in keys if k[1] is not None), key=lambda k: (-k[1], -k[2], k[5], k[0]))
    out: list[tuple[int | None, int]] = []
    rank, previous = 0, None
    for position, k in enumerate(ranked, start=1):
        bound = round(k[1], RANK_DIGITS)
        if bound != previous:
            rank, previous = position, bound
        out.append((rank, k[0]))
    rest = sorted((k for k in keys if k[1] is None), key=lambda k: (-k[3], -k[4], k[5], k[0]))
    out.extend((None, k[0]) for k in rest)
    return out


def rank_rows(summaries: dict, subjects: dict, *, min_resolved: int) -> list[LeaderboardRow]:
    """Order summaries into leaderboard rows (shared by the live and the point-in-time boards)."""
    need = max(min_resolved, 2)
    keys = (
        RankKey(
            k,
            s.skill.lower_bound if s.skill.n >= need else None,
            s.skill.n,
            s.resolved,
            s.total,
            subjects[k].name,
        )
        for k, s in summaries.items()
    )
    return [LeaderboardRow(rank, subjects[k], summaries[k]) for rank, k in board_order(keys)]
