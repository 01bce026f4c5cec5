"""Reads: leaderboards and track records (SCORING §4). No writes here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, F, FloatField, Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast, Coalesce
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


FIGURE_NAMES = tuple(aggregate_figures())  # the order a Board keeps each subject's figures in

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


class BoardPart(Sequence):
    """A slice of a Board, itself lazy: what a Paginator or a template slice needs (len, slicing)."""

    __slots__ = ("board", "start", "stop")

    def __init__(self, board: Board, start: int, stop: int) -> None:
        self.board, self.start, self.stop = board, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i):
        if isinstance(i, slice):
            lo, hi, step = i.indices(len(self))
            return self.board[self.start + lo : self.start + hi : step]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.board[self.start + i]


class Board(Sequence):
    """The whole unfiltered board, ranked, with each row built only when it is read.

    At a million forecasts the board has 20,000 subjects; a page shows 100 and the home page 5. The ranking
    needs only each subject's skill bound, counts and name; the full Summary of a row (intervals, rates,
    returns) is made when that row is read. The entries are plain tuples and dicts, so the board is cheap to
    keep in the cache and to read back (model instances or 20,000 Summary objects took seconds to pickle).
    """

    __slots__ = ("entries", "n_ranked")

    def __init__(self, entries: list[tuple], n_ranked: int) -> None:
        self.entries = entries  # (rank or None, subject tuple, figures tuple): ranked first, in order
        self.n_ranked = n_ranked

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._row(e) for e in self.entries[i]]
        return self._row(self.entries[i])

    @staticmethod
    def _row(entry: tuple) -> LeaderboardRow:
        rank, subject, figures = entry
        figures_by_name = dict(zip(FIGURE_NAMES, figures, strict=True))
        return LeaderboardRow(rank, _ref(subject), summary_from_row(figures_by_name))

    def ranked(self) -> BoardPart:
        return BoardPart(self, 0, self.n_ranked)

    def unranked(self) -> BoardPart:
        return BoardPart(self, self.n_ranked, len(self.entries))


def split_board(rows) -> tuple[Sequence, Sequence]:
    """(ranked rows, unranked rows) of any board; lazy for a Board."""
    if isinstance(rows, Board):
        return rows.ranked(), rows.unranked()
    return [r for r in rows if r.rank is not None], [r for r in rows if r.rank is None]


def stored_board(by: str, *, min_resolved: int) -> Board:
    """The board over every published forecast, from the precomputed aggregates: two queries. Ranked by
    board_order, as rank_rows ranks, from the few figures ranking needs (no Summary per subject)."""
    rows = list(
        SubjectAggregate.objects.filter(scope=by)
        .annotate(raw=Cast("figures", TextField()))
        .values_list("subject_id", "raw")
    )
    # One JSON document for all the rows: 20,000 separate decodes were half of a cold board at full scale.
    decoded = json.loads("[" + ",".join(raw for _k, raw in rows) + "]")
    subjects = _subject_tuples(by, SubjectAggregate.objects.filter(scope=by).values("subject_id"))
    need = max(min_resolved, 2)
    figures: dict[int, tuple] = {}
    keys = []
    for (k, _raw), d in zip(rows, decoded, strict=True):
        figures[k] = tuple(d[name] for name in FIGURE_NAMES)
        n = d["n_skill"]
        bound = skill_lower_bound(n, d["skill_sum"], d["skill_sq"]) if n >= need else None
        keys.append((k, bound, n, d["n_hits"] + d["n_misses"], d["n_total"], subjects[k][1]))  # a RankKey
    order = board_order(keys)
    entries = [(rank, subjects[k], figures[k]) for rank, k in order]
    return Board(entries, sum(1 for rank, _k in order if rank is not None))


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
    name. Equal keys keep their given order. The one ranking of every board (live, stored, point in time).

    `keys` are RankKeys or plain tuples in the same field order (the stored board passes 20,000 of them, and
    a plain tuple is twenty times cheaper to make than a NamedTuple): hence the indexes below."""
    keys = list(keys)
    ranked = sorted((k for k in keys if k[1] is not None), key=lambda k: (-k[1], -k[2], k[5]))
    out: list[tuple[int | None, int]] = []
    rank, previous = 0, None
    for position, k in enumerate(ranked, start=1):
        bound = round(k[1], 12)
        if bound != previous:
            rank, previous = position, bound
        out.append((rank, k[0]))
    rest = sorted((k for k in keys if k[1] is None), key=lambda k: (-k[3], -k[4], k[5]))
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
