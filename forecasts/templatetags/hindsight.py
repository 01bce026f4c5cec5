from django import template

from forecasts.presentation import describe_claim

register = template.Library()


@register.filter
def claim_in_words(forecast) -> str:
    return describe_claim(forecast)


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
