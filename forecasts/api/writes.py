"""The editors' API writes: request data (shaped by serializers) in, the services out.

Nothing here decides a rule. Recording goes through forecasts.services.recording.record_source (the same
rules, roles, identity and duplicate flags as the admin, the desk and the CSV import); corrections and voids
through forecasts.services, which check the role. This module only translates: names to records,
and the services' refusals to the API's error shape (`forecasts.<i>.<field>`, 403 for a role).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError

from forecasts import services
from forecasts.api.errors import django_errors
from forecasts.models import Forecast
from forecasts.services import recording
from forecasts.services.recording import ForecastInput, RecordingRefused, RecordingResult, SourceInput


def source_record(data: dict, *, actor) -> RecordingResult:
    """Record a source and its forecasts, all or nothing; ValidationError names every bad field."""
    source = SourceInput(
        url=data["url"],
        publication=data["publication"],
        title=data.get("title", ""),
        published=data["published"],
        language=data.get("language") or "en",
        article_text=data.get("article_text", ""),
    )
    items = [
        ForecastInput(
            strategist=item["strategist"],
            firm=item.get("firm", ""),
            quote=item["quote"],
            instrument=item["instrument"],
            kind=item["kind"],
            target=item.get("target"),
            target_upper=item.get("target_upper"),
            other_instrument=item.get("other_instrument"),
            basis=item.get("basis"),
            deadline=item.get("deadline"),
            deadline_source=item.get("deadline_source"),
            made_at=item.get("made_at"),
            not_duplicate=bool(item.get("not_duplicate")),
            confirm_implausible=bool(item.get("confirm_reason")),
            confirm_reason=item.get("confirm_reason") or "",
            supersedes=item.get("supersedes"),
        )
        for item in data["forecasts"]
    ]
    try:
        return recording.record_source(source, items, actor=actor)
    except RecordingRefused as exc:
        body: dict = {name: messages for name, messages in exc.source_errors.items()}
        if exc.forecast_errors:
            body["forecasts"] = [exc.forecast_errors.get(i, {}) for i in range(len(items))]
        raise ValidationError(body) from None


def forecast_correct(forecast: Forecast, *, changes: dict, reason: str, actor) -> Forecast:
    """services.forecast_correct with instrument names resolved; errors named `changes.<field>`."""
    changes = dict(changes)
    problems: dict[str, list[str]] = {}
    for name in ("instrument", "other_instrument"):
        if changes.get(name):
            errors = recording.FieldErrors()
            changes[name] = recording.resolve_instrument(changes[name], name, errors)
            problems.update(errors)
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
