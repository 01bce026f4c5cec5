from datetime import datetime

from django import template
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from forecasts.site import presentation
from forecasts.site.presentation import _day, describe_claim, short_claim
from marketdata import names

register = template.Library()


@register.filter
def claim_in_words(forecast) -> str:
    return describe_claim(forecast)


@register.filter
def claim_short(forecast) -> str:
    return short_claim(forecast)


def _unsigned_zero(value: float, digits: int) -> float:
    """0.0 for a value that rounds to zero at `digits` decimals, so it never shows as "-0.00"."""
    return 0.0 if round(value, digits) == 0 else value


def _number(value):
    """A float from a template value ('' and None: None; text that is no number: None)."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def pct(value, digits: int = 0) -> str:
    """0.1234 -> '12%' ('12.3%' with :1); never '-0%'."""
    value = _number(value)
    if value is None:
        return "—"
    digits = int(digits)
    return f"{_unsigned_zero(value * 100, digits):,.{digits}f}%"


@register.filter
def signed(value, digits: int = 2) -> str:
    """+0.42 / −0.10 with an explicit sign; a value that rounds to zero is +0.00, never -0.00."""
    value = _number(value)
    if value is None:
        return "—"
    digits = int(digits)
    return f"{_unsigned_zero(value, digits):+,.{digits}f}"


@register.filter
def price(value) -> str:
    """A price with thousands separators and at most two decimals: 22,620.33, 26,800, 0.5; never -0."""
    value = _number(value)
    if value is None:
        return "—"
    return f"{_unsigned_zero(value, 2):,.2f}".removesuffix(".00")


@register.filter
def decimal(value, digits: int = 2) -> str:
    """A plain figure with thousands separators and fixed decimals (weights, standard errors); never -0."""
    value = _number(value)
    if value is None:
        return "—"
    digits = int(digits)
    return f"{_unsigned_zero(value, digits):,.{digits}f}"


@register.filter
def instrument_name(instrument) -> str:
    """The instrument's name in the page's language: Hang Seng Index / 恒生指數 / 恒生指数."""
    return names.instrument_name(instrument)


@register.filter
def market_name(code) -> str:
    """A market (calendar code) in the page's language: XHKG -> Hong Kong / 香港."""
    return names.market_name(str(code or ""))


@register.filter
def asset_class_name(code) -> str:
    return names.asset_class_name(str(code or ""))


@register.filter
def status_detail(forecast) -> str:
    """Why a forecast stands as it does, said once after its status label ("Void — no trading session…",
    never "Void — void: no trading session…"; "Pending — decided at the close of…")."""
    return presentation.status_detail(forecast, label=str(status_label(forecast)))


@register.filter
def boldness(chance, digits: int = 0) -> str:
    """1 − the chance by luck, as a percentage: how unlikely the call was to come true by chance."""
    value = _number(chance)
    return "—" if value is None else pct(1 - value, digits)


# Model choice labels are English in models.py; the pages show them translated.
STATUS_LABELS = {"pending": _("Pending"), "hit": _("Hit"), "miss": _("Miss"), "void": _("Void")}
ACTION_LABELS = {
    "created": _("Recorded"),
    "published": _("Published"),
    "scored": _("Scored"),
    "rescored": _("Rescored"),
    "corrected": _("Corrected"),
    "voided": _("Voided"),
    "judged": _("Judged by an editor"),
}
DEADLINE_SOURCE_LABELS = {
    "stated": _("stated in the quote"),
    "implied": _("implied, e.g. 'by year end'"),
    "none": _("none stated: 12-month default"),
}
BASIS_LABELS = {"close": _("daily close"), "intraday": _("intraday high / low")}


@register.filter
def status_label(forecast) -> str:
    return STATUS_LABELS.get(forecast.status, forecast.get_status_display())


@register.filter
def window_progress(forecast) -> str:
    """A pending forecast's "k of n sessions complete", computed when shown (forecasts.selectors.progress)."""
    from forecasts.selectors.progress import window_progress as progress

    found = progress(forecast)
    return "" if found is None else str(found)


@register.filter
def action_label(event) -> str:
    return ACTION_LABELS.get(event.action, event.get_action_display())


@register.filter
def deadline_source_label(forecast) -> str:
    return DEADLINE_SOURCE_LABELS.get(forecast.deadline_source, forecast.get_deadline_source_display())


@register.filter
def basis_label(forecast) -> str:
    return BASIS_LABELS.get(forecast.basis, forecast.get_basis_display())


@register.filter
def day(value) -> str:
    """'21 Feb 2025' in English, '2025年2月21日' in Chinese (datetimes in the current time zone)."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = localtime(value).date()
    return _day(value)


@register.filter
def event_actor(event) -> str:
    """Who made a history entry: the user, the automatic scorer, or an unattended import."""
    if event.actor_id:
        return event.actor.get_username()
    return _("scorer") if event.action in ("scored", "rescored") else _("import")


@register.filter
def note(text) -> str:
    """A stored note, void reason or history reason in the reader's language (forecasts.site.notes)."""
    from forecasts.site.notes import note_text

    return note_text(text)


@register.simple_tag
def chart_labels() -> str:
    """The words charts.js draws (legends, axes, annotations, date formats), translated, as the page's
    ``chart-labels`` JSON."""
    from django.utils.html import json_script
    from django.utils.translation import gettext, pgettext

    return json_script(
        {
            "target": gettext("Target %(value)s"),
            "baseline": gettext("Baseline %(value)s"),
            "deadline": gettext("Deadline"),
            "symbol_close": gettext("%(symbol)s close"),
            "deciding": gettext("Deciding session"),
            "close": pgettext("chart legend: the price line", "Close"),
            "targets": gettext("Targets"),
            "open_call": gettext("Open call"),
            "consensus": gettext("Consensus (track-record weighted)"),
            "cumulative_skill": gettext("Cumulative skill"),
            "skill_points": gettext("skill points"),
            "hit": gettext("Hit"),
            "miss": gettext("Miss"),
            "hit_tick": pgettext("chart axis tick", "hit"),
            "miss_tick": pgettext("chart axis tick", "miss"),
            # date-fns patterns (quote literal text: 'of')
            "day_format": pgettext("date-fns pattern of a day on charts", "d MMM yyyy"),
            "month_format": pgettext("date-fns pattern of a month on chart axes", "MMM yyyy"),
        },
        "chart-labels",
    )


@register.simple_tag(takes_context=True)
def language_links(context) -> list[dict]:
    """This page in every language, as plain links (the language is in the URL, never in a cookie)."""
    from django.conf import settings
    from django.urls import translate_url
    from django.utils.translation import get_language, get_language_info

    request = context.get("request")
    here = request.get_full_path() if request is not None else "/"
    current = get_language()
    links = []
    for code, _name in settings.LANGUAGES:
        info = get_language_info(code)
        url = translate_url(here, code)
        links.append({"code": code, "name": info["name_local"], "url": url, "current": code == current})
    return links
