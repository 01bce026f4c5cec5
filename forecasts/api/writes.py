"""The editors' API writes: request data (already parsed by serializers) in, forecasts.services calls out.

Nothing here decides a rule: validation, history and publishing are the services'. This module only
resolves names to records, runs the calls in one transaction and names every error by its field.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from forecasts import services
from forecasts.api.errors import django_errors
from forecasts.models import Forecast, Source, Status
from forecasts.tasks import score_forecasts
from marketdata.catalog import KNOWN_INSTRUMENTS
from marketdata.models import Instrument
from marketdata.services import get_or_create_instrument

log = logging.getLogger(__name__)


def instrument_named(name: str) -> Instrument | None:
    """By symbol or alias; a symbol Hindsight knows but has no prices for yet is created, as in imports."""
    found = services.instrument_by_name(name)
    if found is None and name.strip() in KNOWN_INSTRUMENTS:
        found = get_or_create_instrument(name.strip())[0]
    return found


def create_source_with_forecasts(data: dict, *, actor) -> tuple[Source, list[Forecast]]:
    """Record a source and its forecasts, all or nothing. Raises ValidationError naming every bad field
    (`forecasts.<i>.<field>`); scoring of the new forecasts is queued once the transaction commits."""
    errors: dict = {}
    item_errors: list[dict] = [{} for _ in data["forecasts"]]
    created: list[Forecast] = []
    with transaction.atomic():
        instruments = []
        for i, item in enumerate(data["forecasts"]):
            instrument = instrument_named(item["instrument"])
            other = instrument_named(item["other_instrument"]) if item.get("other_instrument") else None
            if instrument is None:
                item_errors[i]["instrument"] = [f"Unknown instrument {item['instrument']!r}."]
            if item.get("other_instrument") and other is None:
                item_errors[i]["other_instrument"] = [f"Unknown instrument {item['other_instrument']!r}."]
            instruments.append((instrument, other))
        source = None
        first = next((inst for inst, _other in instruments if inst is not None), None)
        if first is not None:
            try:
                with transaction.atomic():
                    source, _created = services.source_get_or_create(
                        url=data["url"],
                        publication=data["publication"],
                        title=data["title"],
                        published=data["published"],
                        tz_name=first.timezone_name,
                        language=data["language"],
                        article_text=data["article_text"],
                    )
            except DjangoValidationError as exc:
                errors.update(django_errors(exc))
        if source is not None:
            for i, item in enumerate(data["forecasts"]):
                instrument, other = instruments[i]
                if instrument is None or item_errors[i]:
                    continue
                try:
                    with transaction.atomic():
                        created.append(_create_one(source, item, instrument, other, data["published"], actor))
                except DjangoValidationError as exc:
                    item_errors[i].update(django_errors(exc))
                except IntegrityError as exc:  # a database rule the services did not foresee
                    log.warning("forecast create refused by the database: %s", exc)
                    item_errors[i]["non_field_errors"] = ["The database refused this forecast."]
        if any(item_errors):
            errors["forecasts"] = item_errors
        if errors:
            transaction.set_rollback(True)
        else:
            touched = {f.instrument_id for f in created} | {f.other_instrument_id for f in created}
            for instrument_id in sorted(touched - {None}):
                transaction.on_commit(partial(score_forecasts.delay, instrument_id), robust=True)
    if errors:
        raise ValidationError(errors)
    return source, created


def _create_one(source: Source, item: dict, instrument, other, published, actor) -> Forecast:
    firm = services.firm_get_or_create(item["firm"])
    strategist = services.strategist_get_or_create(item["strategist"], firm=firm)
    quote = item["quote"].strip()
    existing = Forecast.all_objects.filter(
        source=source, strategist=strategist, instrument=instrument, kind=item["kind"], quote=quote
    ).first()
    if existing is not None:
        raise DjangoValidationError({"quote": f"Already recorded in this source as forecast #{existing.pk}."})
    made_at = item.get("made_at") or (
        published
        if isinstance(published, datetime)
        else services.end_of_day(published, instrument.timezone_name)
    )
    return services.forecast_create(
        strategist=strategist,
        firm=firm,
        source=source,
        quote=quote,
        instrument=instrument,
        kind=item["kind"],
        target=item["target"],
        target_upper=item["target_upper"],
        other_instrument=other,
        basis=item["basis"],
        deadline=item["deadline"],
        deadline_source=item["deadline_source"],
        made_at=made_at,
        actor=actor,
    )


def correct_forecast(forecast: Forecast, *, changes: dict, reason: str, actor) -> Forecast:
    """services.forecast_correct with instrument symbols resolved; errors named `changes.<field>`."""
    changes = dict(changes)
    problems = {}
    for name in ("instrument", "other_instrument"):
        if changes.get(name):
            found = instrument_named(changes[name])
            if found is None:
                problems[name] = [f"Unknown instrument {changes[name]!r}."]
            changes[name] = found
    if problems:
        raise ValidationError({"changes": problems})
    try:
        return services.forecast_correct(forecast, changes=changes, reason=reason, actor=actor)
    except DjangoValidationError as exc:
        detail = django_errors(exc)
        reason_errors = detail.pop("reason", None)
        body = {"changes": detail} if detail else {}
        if reason_errors:
            body["reason"] = reason_errors
        raise ValidationError(body) from None


def void_forecast(forecast: Forecast, *, reason: str, actor) -> Forecast:
    if forecast.status == Status.VOID:
        raise ValidationError({"status": ["The forecast is already void."]})
    try:
        return services.forecast_void(forecast, reason=reason, actor=actor)
    except DjangoValidationError as exc:
        raise ValidationError(django_errors(exc)) from None
