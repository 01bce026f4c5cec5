"""Public pages. Views only fetch through selectors / pages and render.

Every data page is public: the same for every anonymous reader (the language is in the URL, there is no
CSRF token or per-user bit), so forecasts.site.pagecache stores it whole under the data version and a CDN
may keep it for PAGE_MAX_AGE. Conditional GETs are answered from the data version (ETag, Last-Modified).
"""

from __future__ import annotations

import functools

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_GET

from forecasts.models import Firm, Kind, Source, Strategist
from forecasts.selectors import ForecastFilters, pages
from forecasts.selectors.leaderboards import instruments_named, split_board, stored_summary
from forecasts.selectors.outlook import instrument_outlook
from forecasts.services import dataversion
from forecasts.site.presentation import (
    cumulative_skill,
    difficulty_outcomes,
    forecast_chart,
    instrument_chart,
    revision_record,
    sort_board,
)
from marketdata.models import Instrument
from marketdata.names import instrument_name, market_name

PAGE_MAX_AGE = 60  # a CDN or browser may serve a page this long after a change without asking
PAGE_STALE = 600  # ... and this long more while it revalidates in the background
BOARD_PAGE_SIZE = 100
INSTRUMENT_PAGE_SIZE = 100  # forecasts per page of an instrument's table


def _last_modified(request, *args, **kwargs):
    # Computed once per request: also the version under which leaderboards are cached. From the data
    # version (no query); a query only while the cache is down.
    if not hasattr(request, "_data_version"):
        request._data_version = dataversion.changed_at() or pages.last_modified()
    return request._data_version


def public_page(view):
    """GET/HEAD only, conditional on the data's last change, public: cached whole by the page cache."""

    @require_GET
    @cache_control(public=True, max_age=PAGE_MAX_AGE, stale_while_revalidate=PAGE_STALE)
    @condition(last_modified_func=_last_modified)
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    return wrapped


# --- Filters ----------------------------------------------------------------------------------------------


def _suggest_field(
    label, name: str, placeholder, *, value_field: str = "name", max_length: int = 200
) -> forms.CharField:
    """A filter too long for a drop-down: a text field whose <datalist id="{name}-suggestions"> filters.js
    fills from /api/{name}s/?search= (the suggestion's `value_field` is what the field takes)."""
    attrs = {
        "list": f"{name}-suggestions",
        "data-suggest": f"/api/{name}s/",
        "autocomplete": "off",
        "placeholder": placeholder,
    }
    if value_field != "name":
        attrs["data-suggest-field"] = value_field
    return forms.CharField(
        label=label, required=False, max_length=max_length, widget=forms.TextInput(attrs=attrs)
    )


class BoardFilterForm(forms.Form):
    """GET parameters of the leaderboards, mapped to selectors.ForecastFilters."""

    market = forms.ChoiceField(label=_("Market"), required=False)
    instrument = forms.ChoiceField(label=_("Instrument"), required=False)
    firm = forms.ChoiceField(label=_("Firm"), required=False)
    kind = forms.ChoiceField(label=_("Kind of claim"), required=False)
    made_from = forms.DateField(
        label=_("Made from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    made_to = forms.DateField(
        label=_("Made to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, choices: dict, with_firm: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        anything = [("", _("All"))]
        # Readers see names in their language (Hong Kong / 香港, Gold (COMEX futures) / 黃金期貨); the codes
        # stay the values, so filtered URLs are the same in every language.
        self.fields["market"].choices = anything + [(m, market_name(m)) for m in choices["markets"]]
        if choices["instruments"] or not choices.get("instrument_count"):
            named = ((i.symbol, instrument_name(i)) for i in choices["instruments"])
            self.fields["instrument"].choices = anything + sorted(named, key=lambda c: c[1].casefold())
        else:  # thousands of instruments: a symbol or name, with suggestions
            self.fields["instrument"] = _suggest_field(
                _("Instrument"),
                "instrument",
                _("Any instrument: type a symbol or name"),
                value_field="symbol",
                max_length=100,
            )
        self.fields["kind"].choices = anything + [(k, KIND_LABELS.get(k, label)) for k, label in Kind.choices]
        if not with_firm:
            del self.fields["firm"]
        elif choices["firms"] or not choices.get("firm_count"):
            self.fields["firm"].choices = anything + [(f.slug, f.name) for f in choices["firms"]]
        else:  # thousands of firms: a name or slug, with suggestions
            self.fields["firm"] = _suggest_field(_("Firm"), "firm", _("Any firm: type a name"))

    def clean_instrument(self) -> str:
        value = (self.cleaned_data.get("instrument") or "").strip()
        if not value or isinstance(self.fields["instrument"], forms.ChoiceField):
            return value
        if not instruments_named(value).exists():
            raise forms.ValidationError(_("No instrument is called “%(name)s”.") % {"name": value})
        return value

    def clean_firm(self) -> str:
        value = (self.cleaned_data.get("firm") or "").strip()
        if not value or isinstance(self.fields["firm"], forms.ChoiceField):
            return value
        found = Firm.objects.filter(Q(slug=value) | Q(name__iexact=value)).values_list("slug", flat=True)
        slug = next(iter(found), None)
        if slug is None:
            raise forms.ValidationError(_("No firm is called “%(name)s”.") % {"name": value})
        return slug

    def filters(self) -> ForecastFilters:
        if not self.is_valid():
            return ForecastFilters()
        d = self.cleaned_data
        return ForecastFilters(
            market=d.get("market", ""),
            instrument=d.get("instrument", ""),
            firm=d.get("firm", ""),
            kind=d.get("kind", ""),
            made_from=d.get("made_from"),
            made_to=d.get("made_to"),
        )

    def active(self) -> bool:
        f = self.filters()
        return f != ForecastFilters()


KIND_LABELS = {
    Kind.REACH: _("Reaches a level"),
    Kind.CLOSE_ABOVE: _("Closes at or above"),
    Kind.CLOSE_BELOW: _("Closes at or below"),
    Kind.RANGE: _("Closes within a range"),
    Kind.DIRECTION_UP: _("Ends higher"),
    Kind.DIRECTION_DOWN: _("Ends lower"),
    Kind.MOVE_PCT: _("Moves by a percentage"),
    Kind.OUTPERFORM: _("Outperforms another instrument"),
    Kind.MANUAL: _("Qualitative (judged by an editor)"),
}

BOARD_COLUMNS = [
    ("name", _("Name")),
    ("resolved", _("Resolved")),
    ("hits", _("Hits")),
    ("misses", _("Misses")),
    ("pending", _("Pending")),
    ("hit_rate", _("Hit rate (95% CI)")),
    ("skill", _("Mean skill")),
    ("boldness", _("Mean boldness")),
]


def _sort_links(request, current: str) -> list[dict]:
    """Header links: clicking a column sorts by it (descending first, except names), again to reverse."""
    params = request.GET.copy()
    out = []
    for key, label in BOARD_COLUMNS:
        first = key if key == "name" else f"-{key}"
        target = (key if current == f"-{key}" else f"-{key}") if current in (key, f"-{key}") else first
        params["sort"] = target
        aria = ""
        if current == key:
            aria = "ascending"
        elif current == f"-{key}":
            aria = "descending"
        out.append({"key": key, "label": label, "url": "?" + params.urlencode(), "aria_sort": aria})
    params.pop("sort", None)
    return out


def _board_context(request, *, by: str, extra_filters: dict | None = None) -> dict:
    form = BoardFilterForm(
        request.GET or None,
        choices=pages.filter_choices(_last_modified(request)),
        with_firm=by == "strategist",
    )
    filters = form.filters()
    if extra_filters:
        filters = ForecastFilters(**{**filters.__dict__, **extra_filters})
    rows = pages.board(filters, by=by, version=_last_modified(request))
    sort = request.GET.get("sort", "")
    # Lazy for the whole board: only the rows of this page are built (unless a column sort needs them all).
    ranked_rows, unranked_rows = split_board(rows)
    ranked, applied = sort_board(ranked_rows, sort)
    unranked, _applied = sort_board(unranked_rows, sort)
    default_params = request.GET.copy()
    default_params.pop("sort", None)
    # A page of the ranked board; only the top of the unranked (thousands at scale).
    page = Paginator(ranked, BOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    page_params = request.GET.copy()
    page_params.pop("page", None)
    return {
        "form": form,
        "filtered": form.active(),
        "ranked": page.object_list,
        "page": page,
        "page_query": page_params.urlencode(),
        "unranked": unranked[:BOARD_PAGE_SIZE],
        "unranked_more": max(0, len(unranked) - BOARD_PAGE_SIZE),
        "sort": applied,
        "columns": _sort_links(request, applied),
        "default_sort_url": "?" + default_params.urlencode(),
        "min_resolved": settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED,
        "by": by,
    }


# --- Pages ------------------------------------------------------------------------------------------------


@public_page
def home_page(request):
    context = pages.home(version=_last_modified(request))
    context["min_resolved"] = settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED
    return render(request, "forecasts/home.html", context)


@public_page
def leaderboard_page(request):
    return render(request, "forecasts/leaderboard.html", _board_context(request, by="strategist"))


@public_page
def firm_list_page(request):
    return render(request, "forecasts/firms.html", _board_context(request, by="firm"))


@public_page
def firm_page(request, slug: str):
    firm = get_object_or_404(Firm, slug=slug)
    forecasts = pages.firm_forecasts(firm)
    return render(
        request,
        "forecasts/firm.html",
        {
            "firm": firm,
            "summary": stored_summary("firm", firm.pk),
            "rows": pages.board(ForecastFilters(firm=firm.slug)),
            "columns": [{"key": k, "label": label} for k, label in BOARD_COLUMNS],
            "forecasts": forecasts,
            "min_resolved": settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED,
        },
    )


@public_page
def strategist_page(request, slug: str):
    strategist = get_object_or_404(Strategist.objects.select_related("firm"), slug=slug)
    forecasts = pages.strategist_track_record(strategist)
    return render(
        request,
        "forecasts/strategist.html",
        {
            "strategist": strategist,
            "summary": stored_summary("strategist", strategist.pk),
            "forecasts": forecasts,
            "skill_chart": cumulative_skill(forecasts),
            "difficulty_chart": difficulty_outcomes(forecasts),
            "revisions": revision_record(forecasts),
        },
    )


@require_GET
def track_record_csv(request, slug: str):
    """The download link on the strategist page: the API's CSV track record (one implementation)."""
    get_object_or_404(Strategist, slug=slug)
    excel = "&excel=1" if request.GET.get("excel") == "1" else ""  # UTF-8 with a BOM, for Excel
    return redirect(f"{reverse('api-track-record', args=[slug])}?format=csv{excel}")


@public_page
def forecast_page(request, pk: int):
    forecast = get_object_or_404(pages.with_revision_links(pages.forecast_list()), pk=pk)
    events = list(forecast.events.select_related("actor").order_by("at", "id"))
    start, end = pages.forecast_price_span(forecast)
    series = pages.price_series(forecast.instrument, start, end)
    return render(
        request,
        "forecasts/forecast.html",
        {
            "f": forecast,
            "events": events,
            "chart": forecast_chart(forecast, series, pages.MAX_CHART_POINTS),
            "series_len": len(series),
        },
    )


@public_page
def instrument_page(request, symbol: str):
    instrument = get_object_or_404(Instrument, symbol=symbol)
    forecasts = pages.instrument_forecasts(instrument)
    start, end = pages.instrument_price_span(forecasts)
    series = pages.price_series(instrument, start, end) if forecasts else []
    on_it = [f for f in forecasts if f.instrument_id == instrument.pk]
    # What strategists expect now: the open calls, their track-record-weighted consensus, its record.
    outlook = instrument_outlook(instrument, forecasts=forecasts, closes=series)
    # The table lists them newest first, a page at a time (a popular index can carry thousands).
    page = Paginator(forecasts[::-1], INSTRUMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "forecasts/instrument.html",
        {
            "instrument": instrument,
            "forecasts": page.object_list,
            "page": page,
            "pending": [f for f in forecasts if f.status == "pending"],
            "summary": stored_summary("instrument", instrument.pk),
            "chart": instrument_chart(series, on_it, pages.MAX_CHART_POINTS, outlook=outlook),
            "last_bar": series[-1] if series else None,
            "outlook": outlook,
        },
    )


@public_page
def source_page(request, pk: int):
    source = get_object_or_404(Source, pk=pk)
    forecasts = pages.source_forecasts(source)
    if not forecasts:  # a source whose forecasts are all unpublished drafts is not public yet
        raise Http404("No published forecasts from this source.")
    return render(request, "forecasts/source.html", {"source": source, "forecasts": forecasts})


@require_GET
@cache_control(max_age=3600, public=True)
def methodology_page(request):
    return render(
        request,
        "forecasts/methodology.html",
        {"min_resolved": settings.HINDSIGHT_LEADERBOARD_MIN_RESOLVED},
    )


@public_page
def search_page(request):
    q = request.GET.get("q", "")[:100]
    results = pages.search(q)
    return render(
        request,
        "forecasts/search.html",
        {
            "q": q.strip(),
            "results": results,
            "count": sum(len(v) for v in results.values()),
        },
    )
