"""People, firms and instruments by name: matching (names and aliases), creating, readable slugs."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.utils.text import slugify

from forecasts.models import Alias, Firm, Strategist
from marketdata.models import Instrument


def firm_get_or_create(name: str) -> Firm | None:
    name = " ".join(name.split())
    if not name:
        return None
    firm = Firm.objects.filter(name__iexact=name).first() or _aliased(Alias.Target.FIRM, name)
    if firm is None:
        firm = _create_racing(
            lambda: Firm.objects.create(name=name, slug=unique_slug(Firm, name)),
            lambda: Firm.objects.filter(name__iexact=name).first(),
        )
    return firm


def strategist_get_or_create(name: str, *, firm: Firm | None) -> Strategist:
    """Match by name (case-insensitive) and firm; a same-named person at another firm is another person."""
    return strategist_match_or_create(name, firm=firm)[0]


def strategist_match_or_create(name: str, *, firm: Firm | None) -> tuple[Strategist, bool]:
    """strategist_get_or_create, and whether the person is new (then no call of theirs exists yet)."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"strategist": "A strategist's name is required."})
    # Everyone of that name in one query: the one at this firm, else the only one of the name.
    same_name = list(Strategist.objects.filter(name__iexact=name).order_by("pk"))
    at_firm = [p for p in same_name if p.firm_id == (firm.pk if firm else None)]
    person = at_firm[0] if at_firm else same_name[0] if len(same_name) == 1 else None
    person = person or _aliased(Alias.Target.STRATEGIST, name)
    if person is not None:
        return person, False
    created = []

    def create() -> Strategist:
        created.append(Strategist.objects.create(name=name, slug=unique_slug(Strategist, name), firm=firm))
        return created[-1]

    person = _create_racing(create, lambda: Strategist.objects.filter(name__iexact=name, firm=firm).first())
    return person, bool(created) and created[-1] is person


def _create_racing(create, find, attempts: int = 3):
    """Create a row that a concurrent request may be creating too (two editors recording the same new
    firm): on a unique-key clash, take the row the other one committed, or try again with a new slug."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return create()
        except IntegrityError:
            found = find()
            if found is not None:
                return found
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _aliased(target: str, name: str):
    """The strategist / firm / instrument an alias names, or None."""
    alias = Alias.objects.filter(target=target, name__iexact=name).select_related(target).first()
    return getattr(alias, target) if alias else None


def instrument_by_name(name: str) -> Instrument | None:
    """An instrument by symbol, alias (e.g. '恒指', '恒生指数', 'Hang Seng' -> HSI) or display name."""
    name = " ".join(name.split())
    if not name:
        return None
    found = Instrument.objects.filter(symbol=name).first() or _aliased(Alias.Target.INSTRUMENT, name)
    if found is None:
        found = Instrument.objects.filter(
            Q(name__iexact=name) | Q(name_zh_hant=name) | Q(name_zh_hans=name)
        ).first()
    if found is None:
        symbol = bundled_symbol(name)
        found = Instrument.objects.filter(symbol=symbol).first() if symbol else None
    return found


def bundled_symbol(name: str) -> str | None:
    """The bundled instrument a name means by its built-in aliases (for one not in the database yet)."""
    from forecasts.services.aliases import INSTRUMENT_ALIASES

    key = " ".join(name.split()).casefold()
    for symbol, names in INSTRUMENT_ALIASES.items():
        if key == symbol.casefold() or key in (n.casefold() for n in names):
            return symbol
    return None


def readable_slug(name: str) -> str:
    """A URL slug a reader can read: Chinese names in pinyin (顏子琪 -> yan-zi-qi), others slugified."""
    from pypinyin import lazy_pinyin

    return slugify(" ".join(lazy_pinyin(name)), allow_unicode=False)[:190].strip("-")


def unique_slug(model: type[Model], name: str) -> str:
    base = readable_slug(name) or model.__name__.lower()
    slug, n = base, 2
    while model._default_manager.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def sha256_text(text: str) -> str:
    """The article text's fingerprint, kept in case the page later changes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def end_of_day(day: date, tz_name: str) -> datetime:
    """Midnight at the end of `day` in the time zone: SCORING §2's made_at for date-only sources."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz_name))
