"""Page-specific reads for the public site. No writes here.

Every function issues a fixed number of queries, whatever the number of forecasts: lists are fetched
with their foreign keys joined (select_related) and their histories prefetched in one query.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from forecasts.models import Firm, Forecast, ForecastEvent, Source, Status, Strategist, SubjectAggregate
from forecasts.selectors.leaderboards import ForecastFilters, filtered_leaderboard, split_board
from marketdata.models import Instrument, PriceBar
from marketdata.names import to_traditional

# Price series on pages are cut to the interesting span plus this margin, then downsampled.
PRICE_MARGIN_DAYS = 45
MAX_CHART_POINTS = 400
SEARCH_LIMIT = 20

RESOLVED = (Status.HIT, Status.MISS)


def forecast_list() -> QuerySet[Forecast]:
    """Forecasts with everything a list row shows, in one query."""
    return Forecast.objects.select_related("strategist", "firm", "source", "instrument", "other_instrument")


def with_revision_links(forecasts: QuerySet[Forecast]) -> QuerySet[Forecast]:
    """Add the published call each forecast revises and the one revising it (`revises_pk`, `revises_target`,
    `revises_made_at`, `revised_by_pk`, ...): subqueries in the same query, no extra round trip."""
    earlier = Forecast.objects.filter(pk=OuterRef("supersedes_id"))
    later = Forecast.objects.filter(supersedes=OuterRef("pk")).order_by("made_at", "pk")
    return forecasts.annotate(
        **{
            f"{name}_{column}": Subquery(rows.values(column)[:1])
            for name, rows in (("revises", earlier), ("revised_by", later))
            for column in ("pk", "target", "made_at")
        }
    )


def with_history(forecasts: QuerySet[Forecast]) -> QuerySet[Forecast]:
    """Add each forecast's ForecastEvent history (one extra query for the whole list)."""
    return forecasts.prefetch_related(
        Prefetch("events", queryset=ForecastEvent.objects.select_related("actor").order_by("at", "id"))
    )


def last_modified() -> datetime | None:
    """When anything a public page shows last changed: a forecast (claim or score) or a price bar.

    One query; used for Last-Modified and conditional GETs.
    """
    newest_bar = PriceBar.objects.order_by("-fetched_at").values("fetched_at")[:1]
    row = Forecast.objects.aggregate(forecast=Max("updated_at"), bar=Max(Subquery(newest_bar)))
    stamps = [s for s in (row["forecast"], row["bar"]) if s]
    return max(stamps) if stamps else None


def home(*, top: int = 5, each: int = 6, version: datetime | None = None) -> dict:
    """The home page: the top of the board and three short lists. Five queries (three once cached)."""
    rows = board(ForecastFilters(), version=version)
    today = timezone.now().date()
    resolved = forecast_list().filter(status__in=RESOLVED).order_by("-resolved_on", "-pk")[:each]
    upcoming = (
        forecast_list().filter(status=Status.PENDING, deadline__gte=today).order_by("deadline", "pk")[:each]
    )
    newest = forecast_list().order_by("-made_at", "-pk")[:each]
    ranked, unranked = split_board(rows)
    return {
        "board": list(ranked[:top]),
        "unranked_count": len(unranked),
        "recently_resolved": list(resolved),
        "upcoming": list(upcoming),
        "newest": list(newest),
    }


#: Up to this many firms the board's firm filter is a drop-down; beyond, a text field with suggestions
#: (forecasts/static/forecasts/filters.js asks /api/firms/?search=), so the page never carries thousands.
FIRM_SELECT_MAX = 60
#: Likewise for instruments (a benchmark at full scale has 5,000: 300 KB of options on every board page).
INSTRUMENT_SELECT_MAX = 200


def filter_choices(version: datetime | None = None) -> dict:
    """Choices for the leaderboard filters, from the precomputed aggregates (subjects with published
    forecasts): a few small queries, whatever the number of forecasts; none when cached under `version`."""
    key = f"filter-choices:{version.isoformat()}" if version is not None else None
    if key is not None and (cached := cache.get(key)) is not None:
        return cached
    with_forecasts = SubjectAggregate.objects.values_list("subject_id", flat=True)
    on_board = Instrument.objects.filter(pk__in=with_forecasts.filter(scope="instrument"))
    instruments = list(on_board.order_by("symbol")[: INSTRUMENT_SELECT_MAX + 1])
    if len(instruments) <= INSTRUMENT_SELECT_MAX:  # one query tells the count and the markets too
        instrument_count, markets = len(instruments), sorted({i.calendar_code for i in instruments})
    else:  # too many for a drop-down: count them and list the markets without building instances
        codes = list(on_board.values_list("calendar_code", flat=True))
        instrument_count, markets, instruments = len(codes), sorted(set(codes)), []
    firm_ids = with_forecasts.filter(scope="firm")
    firm_count = firm_ids.count()
    firms = (
        list(Firm.objects.filter(pk__in=firm_ids).order_by("name")) if firm_count <= FIRM_SELECT_MAX else []
    )
    choices = {
        "instruments": instruments,
        "instrument_count": instrument_count,
        "firms": firms,
        "firm_count": firm_count,
        "markets": markets,
    }
    if key is not None:
        cache.set(key, choices, BOARD_CACHE_SECONDS)
    return choices


def strategist_track_record(strategist: Strategist) -> list[Forecast]:
    """Every forecast of one strategist with its history, newest first. Two queries."""
    return list(with_history(forecast_list().filter(strategist=strategist)).order_by("-made_at", "pk"))


def firm_forecasts(firm: Firm) -> list[Forecast]:
    return list(forecast_list().filter(firm=firm).order_by("-made_at", "pk"))


def source_forecasts(source: Source) -> list[Forecast]:
    return list(forecast_list().filter(source=source).order_by("strategist__name", "pk"))


def instrument_forecasts(instrument: Instrument) -> list[Forecast]:
    """Forecasts on an instrument (as A or as B of an outperform), oldest first."""
    return list(
        forecast_list()
        .filter(Q(instrument=instrument) | Q(other_instrument=instrument))
        .order_by("made_at", "pk")
    )


def price_series(instrument: Instrument, start: date | None, end: date | None) -> list[tuple[date, float]]:
    """(session, close) of one instrument between two dates (inclusive; None: open-ended). One query."""
    bars = PriceBar.objects.filter(instrument=instrument)
    if start:
        bars = bars.filter(session__gte=start)
    if end:
        bars = bars.filter(session__lte=end)
    return list(bars.order_by("session").values_list("session", "close"))


def forecast_price_span(f: Forecast) -> tuple[date, date]:
    """The span a forecast's chart shows: from before the baseline to after the deadline."""
    made = f.made_at.date()
    first = min(d for d in (f.baseline_date, made) if d)
    last = max(d for d in (f.deadline, f.resolved_on, f.window_end) if d)
    margin = timedelta(days=PRICE_MARGIN_DAYS)
    return first - margin, last + margin


def instrument_price_span(forecasts: list[Forecast]) -> tuple[date | None, date | None]:
    """From a margin before the first forecast to the end of the data (None when there are none)."""
    if not forecasts:
        return None, None
    first = min(f.made_at.date() for f in forecasts)
    return first - timedelta(days=PRICE_MARGIN_DAYS * 4), None


def search(q: str) -> dict:
    """Strategists, firms, instruments and quotes matching q (case-insensitive). Four queries."""
    q = q.strip()
    if len(q) < 2:
        return {"strategists": [], "firms": [], "instruments": [], "forecasts": []}
    return {
        "strategists": list(
            Strategist.objects.select_related("firm")
            .filter(Q(name__icontains=q) | Q(title__icontains=q))
            .order_by("name")[:SEARCH_LIMIT]
        ),
        "firms": list(Firm.objects.filter(name__icontains=q).order_by("name")[:SEARCH_LIMIT]),
        # By symbol, name in any script (Simplified matched in Traditional too) or alias (恒指, Hang Seng).
        "instruments": list(
            Instrument.objects.filter(
                Q(symbol__icontains=q)
                | Q(name__icontains=q)
                | Q(name_zh_hant__icontains=q)
                | Q(name_zh_hant__icontains=to_traditional(q))
                | Q(name_zh_hans__icontains=q)
                | Q(aliases__name__icontains=q)
            )
            .distinct()
            .order_by("symbol")[:SEARCH_LIMIT]
        ),
        "forecasts": list(
            forecast_list()
            .filter(
                Q(quote__icontains=q) | Q(source__title__icontains=q) | Q(source__publication__icontains=q)
            )
            .order_by("-made_at", "pk")[:SEARCH_LIMIT]
        ),
    }


def resolutions(limit: int = 50) -> list[Forecast]:
    """The latest decided forecasts (hit, miss or void), for the feed. One query."""
    return list(
        forecast_list()
        .filter(status__in=(Status.HIT, Status.MISS, Status.VOID), scored_at__isnull=False)
        .order_by("-scored_at", "-resolved_on", "-pk")[:limit]
    )


BOARD_CACHE_SECONDS = 3600


def board(f: ForecastFilters, *, by: str = "strategist", version: datetime | None = None):
    """The leaderboard over the filtered forecasts.

    Unfiltered, it is the stored board: ranked in SQL over the precomputed aggregates and read a page at a
    time (three small queries at any size), so there is nothing to cache. A filtered board aggregates the
    forecasts the filters select (two queries, seconds at a million forecasts for a wide filter); it only
    changes when a forecast does, so it is cached under the data's last change (`version`, the same stamp
    as Last-Modified): any change makes a new key, and old ones expire.
    """
    if version is None or f == ForecastFilters():
        return filtered_leaderboard(f, by=by)
    key = (
        "board:"
        + hashlib.sha256(repr((by, sorted(f.__dict__.items()), version.isoformat())).encode()).hexdigest()
    )
    rows = cache.get(key)
    if rows is None:
        rows = filtered_leaderboard(f, by=by)
        cache.set(key, rows, BOARD_CACHE_SECONDS)
    return rows
