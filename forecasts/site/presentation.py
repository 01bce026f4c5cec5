"""Plain-words descriptions of claims and outcomes, shared by pages and the API."""

from __future__ import annotations

from datetime import date
from statistics import median

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from forecasts.models import Basis, DeadlineSource, Forecast, Kind
from marketdata.names import instrument_name


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    if round(x, 2) == 0:
        x = 0.0  # never "-0"
    return (
        f"{x:,.2f}".rstrip("0").rstrip(".") if abs(x) < 1000 else f"{x:,.0f}" if x == int(x) else f"{x:,.2f}"
    )


def _day(d: date | None) -> str:
    if not d:
        return "?"
    if (get_language() or "en").startswith("zh"):
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {d:%b %Y}"


def describe_claim(f: Forecast) -> str:
    """E.g. 'Hang Seng Index closes at or above 23,200 on any trading day from 17 Feb 2025 to 14 Feb 2026 —
    no deadline was stated, so the 12-month default applies.' (in the active language, with the
    instrument's name in that language: 恒生指數, never the ticker)"""
    sym = instrument_name(f.instrument)
    start = f.window_start
    dates = {"start": _day(start), "deadline": _day(f.deadline)}
    span = _("from %(start)s to %(deadline)s") % dates if start else _("by %(deadline)s") % dates
    intraday = f.basis == Basis.INTRADAY
    last_day = {"sym": sym, "deadline": dates["deadline"]}
    if f.kind in (Kind.REACH, Kind.MOVE_PCT):
        if f.kind == Kind.MOVE_PCT:
            what = _("%(sym)s moves %(pct)s%% from its baseline close") % {
                "sym": sym,
                "pct": f"{f.target:+g}",
            }
            if f.baseline:
                what += _(" (%(baseline)s, so %(target)s)") % {
                    "baseline": _num(f.baseline),
                    "target": _num(f.baseline * (1 + f.target / 100)),
                }
        else:
            up = f.baseline is None or f.target >= f.baseline
            values = {"sym": sym, "target": _num(f.target)}
            if up:
                what = (
                    _("%(sym)s trades at or above %(target)s")
                    if intraday
                    else _("%(sym)s closes at or above %(target)s")
                ) % values
            else:
                what = (
                    _("%(sym)s trades at or below %(target)s")
                    if intraday
                    else _("%(sym)s closes at or below %(target)s")
                ) % values
        text = _("%(what)s on any trading day %(span)s") % {"what": what, "span": span}
    elif f.kind == Kind.CLOSE_ABOVE:
        text = _("%(sym)s closes at or above %(target)s on the last trading day up to %(deadline)s") % {
            **last_day,
            "target": _num(f.target),
        }
    elif f.kind == Kind.CLOSE_BELOW:
        text = _("%(sym)s closes at or below %(target)s on the last trading day up to %(deadline)s") % {
            **last_day,
            "target": _num(f.target),
        }
    elif f.kind == Kind.RANGE:
        text = _("%(sym)s closes between %(low)s and %(high)s on the last trading day up to %(deadline)s") % {
            **last_day,
            "low": _num(f.target),
            "high": _num(f.target_upper),
        }
    elif f.kind in (Kind.DIRECTION_UP, Kind.DIRECTION_DOWN):
        template = (
            _("%(sym)s closes above its baseline (%(baseline)s) on the last trading day up to %(deadline)s")
            if f.kind == Kind.DIRECTION_UP
            else _(
                "%(sym)s closes below its baseline (%(baseline)s) on the last trading day up to %(deadline)s"
            )
        )
        text = template % {**last_day, "baseline": _num(f.baseline)}
    elif f.kind == Kind.OUTPERFORM:
        other = instrument_name(f.other_instrument)
        text = _("%(sym)s returns more than %(other)s from the call to %(deadline)s") % {
            **last_day,
            "other": other,
        }
    else:
        text = _("A qualitative claim about %(sym)s, judged by an editor, by %(deadline)s") % last_day
    if f.deadline_source == DeadlineSource.NONE:
        text += _(" — no deadline was stated, so the 12-month default applies")
    elif f.deadline_source == DeadlineSource.IMPLIED:
        text += _(" — the deadline is implied, not stated")
    return text + _(".")


# The leading word of a translated "void: …" note (the catalogs say 無效 there, 作廢 for the status).
_VOID_WORDS = {"void", "無效", "无效", "作廢", "作废"}


def _note_parts(stored: list[str], labels: set[str]) -> list[str]:
    from forecasts.site.notes import note_text

    prefixes = {label.strip().casefold() for label in labels | _VOID_WORDS} - {""}
    parts: list[str] = []
    for raw in stored:
        text = str(note_text(raw or "")).strip()
        for colon in (":", "："):
            head, sep, rest = text.partition(colon)
            if sep and head.strip().casefold() in prefixes:
                text = rest.strip()
                break
        text = text[:1].upper() + text[1:]
        if text and text.casefold() not in prefixes and text not in parts:
            parts.append(text)
    return parts


def status_detail(f: Forecast, label: str = "") -> str:
    """Why a forecast stands as it does, to follow its status label (`label`, as shown): the note and the
    void reason (in the reader's language, forecasts.site.notes), each once, without the scorer's leading
    "void:" / "pending:" that would repeat the label ("Void — void: no trading session…")."""
    return " — ".join(_note_parts([f.status_note, f.void_reason], {f.status, label}))


def void_reason_text(f: Forecast, label: str = "") -> str:
    """The void reason alone, in the reader's language, without a leading "void:"."""
    return " — ".join(_note_parts([f.void_reason], {label}))


# --- Chart payloads (pure: model instances and lists in, JSON-able dicts out) ---


def target_levels(f: Forecast) -> list[float]:
    """The price level(s) a claim is about, in made_at prices: [] when it has none (outperform, manual)."""
    if f.kind in (Kind.REACH, Kind.CLOSE_ABOVE, Kind.CLOSE_BELOW):
        return [f.target] if f.target is not None else []
    if f.kind == Kind.RANGE:
        return [v for v in (f.target, f.target_upper) if v is not None]
    if f.kind == Kind.MOVE_PCT:
        return [f.baseline * (100 + f.target) / 100] if f.baseline and f.target is not None else []
    if f.kind in (Kind.DIRECTION_UP, Kind.DIRECTION_DOWN):
        return [f.baseline] if f.baseline else []
    return []


def downsample(points: list[tuple[date, float]], limit: int, keep: set[date] = frozenset()) -> list:
    """At most about `limit` points, evenly strided, always keeping the first, the last and `keep` dates."""
    if len(points) <= limit:
        return points
    step = -(-len(points) // limit)  # ceil
    last = len(points) - 1
    return [p for i, p in enumerate(points) if i % step == 0 or i == last or p[0] in keep]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def forecast_chart(f: Forecast, series: list[tuple[date, float]], limit: int = 400) -> dict:
    """Price line with the baseline, target(s), window, deadline and deciding session of one forecast."""
    keep = {d for d in (f.baseline_date, f.resolved_on, f.window_start, f.window_end) if d}
    points = downsample(series, limit, keep)
    return {
        "symbol": f.instrument.symbol,
        "name": instrument_name(f.instrument),
        "prices": [[d.isoformat(), round(c, 4)] for d, c in points],
        "made": f.made_at.date().isoformat(),
        "baseline": _round(f.baseline),
        "baseline_date": _iso(f.baseline_date),
        "targets": [round(t, 4) for t in target_levels(f)],
        "window_start": _iso(f.window_start),
        "window_end": _iso(f.window_end),
        "deadline": _iso(f.deadline),
        "resolved_on": _iso(f.resolved_on),
        "resolution_price": _round(f.resolution_price),
        "status": f.status,
    }


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def instrument_chart(
    series: list[tuple[date, float]], forecasts: list[Forecast], limit: int = 400, *, outlook=None
) -> dict:
    """Price line and every forecast's target plotted at the day it was made; with an outlook, the open
    calls as a fan of segments from the day each was made to its deadline, shaded by the author's record,
    and the consensus history."""
    targets = []
    for f in forecasts:
        for level in target_levels(f):
            targets.append(
                {
                    "x": f.made_at.date().isoformat(),
                    "y": round(level, 4),
                    "id": f.pk,
                    "status": f.status,
                    "who": f.strategist.name,
                    "deadline": f.deadline.isoformat(),
                }
            )
    chart = {
        "prices": [[d.isoformat(), round(c, 4)] for d, c in downsample(series, limit)],
        "targets": targets,
        "calls": [],
        "consensus": [],
    }
    if outlook is not None:
        chart["calls"] = [
            {
                "id": c.forecast.pk,
                "who": c.forecast.strategist.name,
                "from": c.forecast.made_at.date().isoformat(),
                "to": c.forecast.deadline.isoformat(),
                "y": round(c.level, 4),
                "skill": None if c.record.mean_skill is None else round(c.record.mean_skill, 4),
                "resolved": c.record.resolved,
                "weight": round(c.record.weight, 4),
            }
            for c in outlook.calls
            if c.level is not None
        ]
        chart["consensus"] = [
            {"x": p.on.isoformat(), "weighted": round(p.weighted, 4), "median": round(p.median, 4)}
            for p in outlook.history
        ]
    return chart


def cumulative_skill(forecasts: list[Forecast]) -> list[dict]:
    """Running sum of skill over the resolved forecasts with a known chance by luck, by deciding session."""
    scored = sorted(
        (f for f in forecasts if f.skill is not None and f.resolved_on),
        key=lambda f: (f.resolved_on, f.pk),
    )
    total, out = 0.0, []
    for f in scored:
        total += f.skill
        out.append({"x": f.resolved_on.isoformat(), "y": round(total, 4), "id": f.pk, "status": f.status})
    return out


def difficulty_outcomes(forecasts: list[Forecast]) -> list[dict]:
    """(chance by luck p, outcome 1/0) of each resolved forecast with a known p (the stored `difficulty`:
    the chance a random walk would have made the claim come true; boldness is 1 - p)."""
    return [
        {"x": round(f.difficulty, 4), "y": 1 if f.status == "hit" else 0, "id": f.pk, "status": f.status}
        for f in forecasts
        if f.difficulty is not None and f.status in ("hit", "miss")
    ]


def revision_record(forecasts: list[Forecast]) -> dict:
    """A strategist's revisions, from their forecasts alone (no query): each chain of calls that revise one
    another, oldest first, and how often and how close to the deadline they move their targets.

    {"chains": [[f1, f2, ...], ...] (the latest revision first), "revised": calls revised by a later one,
    "calls": all calls, "median_days": median days from a revision to the deadline of the call it revised}
    """
    by_pk = {f.pk: f for f in forecasts}
    later: dict[int, Forecast] = {}
    for f in sorted(forecasts, key=lambda f: (f.made_at, f.pk)):
        if f.supersedes_id in by_pk and f.supersedes_id not in later:
            later[f.supersedes_id] = f
    chains = []
    for head in forecasts:
        if head.pk in later and head.supersedes_id not in by_pk:
            chain = [head]
            while chain[-1].pk in later and len(chain) <= len(forecasts):
                chain.append(later[chain[-1].pk])
            chains.append(chain)
    chains.sort(key=lambda c: (c[-1].made_at, c[-1].pk), reverse=True)
    days = [(by_pk[pk].deadline - f.made_at.date()).days for pk, f in later.items()]
    return {
        "chains": chains,
        "revised": len(later),
        "calls": len(forecasts),
        "median_days": round(median(days)) if days else None,
    }


# --- Leaderboard sorting ---

BOARD_SORTS = {
    "name": lambda r: r.subject.name.lower(),
    "resolved": lambda r: r.summary.resolved,
    "hits": lambda r: r.summary.hits,
    "misses": lambda r: r.summary.misses,
    "pending": lambda r: r.summary.pending,
    "hit_rate": lambda r: r.summary.hit_rate,
    "skill": lambda r: r.summary.skill.mean,
    "boldness": lambda r: r.summary.mean_boldness,
}


def sort_board(rows, sort: str) -> tuple:
    """Rows sorted by a column ("hits", or "-hits" for descending); empty values go last.

    Returns the rows and the sort actually applied ("" for the default order: by rank).
    """
    key = sort.removeprefix("-")
    if key not in BOARD_SORTS:
        return rows, ""
    get = BOARD_SORTS[key]
    descending = sort.startswith("-")
    rows = list(rows)  # a lazy board part: a column sort needs every row
    present = [r for r in rows if get(r) is not None]
    missing = [r for r in rows if get(r) is None]
    present.sort(key=get, reverse=descending)
    return present + missing, sort


def short_claim(f: Forecast) -> str:
    """A list-row label, e.g. 'Hang Seng Index reaches 23,200 by 14 Feb 2026', 'S&P 500 closes ≥ 6,000 on
    31 Dec 2025' (instrument names in the active language)."""
    last = _day(f.window_end or f.deadline)
    v = {"sym": instrument_name(f.instrument), "by": _day(f.deadline), "on": last, "target": _num(f.target)}
    if f.kind == Kind.REACH:
        up = f.baseline is None or f.target >= f.baseline
        return (
            _("%(sym)s reaches %(target)s by %(by)s") if up else _("%(sym)s falls to %(target)s by %(by)s")
        ) % v
    if f.kind == Kind.MOVE_PCT:
        return _("%(sym)s moves %(pct)s%% by %(by)s") % {**v, "pct": f"{f.target:+g}"}
    if f.kind == Kind.CLOSE_ABOVE:
        return _("%(sym)s closes ≥ %(target)s on %(on)s") % v
    if f.kind == Kind.CLOSE_BELOW:
        return _("%(sym)s closes ≤ %(target)s on %(on)s") % v
    if f.kind == Kind.RANGE:
        return _("%(sym)s closes %(target)s–%(upper)s on %(on)s") % {**v, "upper": _num(f.target_upper)}
    if f.kind == Kind.DIRECTION_UP:
        return _("%(sym)s ends higher by %(by)s") % v
    if f.kind == Kind.DIRECTION_DOWN:
        return _("%(sym)s ends lower by %(by)s") % v
    if f.kind == Kind.OUTPERFORM:
        other = instrument_name(f.other_instrument)
        return _("%(sym)s beats %(other)s by %(by)s") % {**v, "other": other}
    return _("%(sym)s: qualitative call by %(by)s") % v


def csv_cell(value) -> str:
    """A CSV cell for track-record downloads (site and API).

    Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets an apostrophe.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not isinstance(value, int | float):
        return "'" + text
    return text
