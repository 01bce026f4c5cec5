from datetime import datetime

from django import template
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from forecasts.site.presentation import _day, describe_claim, short_claim

register = template.Library()


@register.filter
def claim_in_words(forecast) -> str:
    return describe_claim(forecast)


@register.filter
def claim_short(forecast) -> str:
    return short_claim(forecast)


@register.filter
def pct(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{int(digits)}f}%"


@register.filter
def signed(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:+.{int(digits)}f}"


@register.filter
def price(value) -> str:
    """A price with thousands separators and at most two decimals."""
    if value is None:
        return "—"
    return f"{value:,.2f}".removesuffix(".00")


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
