"""Price CSV uploads from the admin: a preview that runs every check and writes nothing, then an
all-or-nothing import of exactly what was previewed.

Errors name the line and the column (or the date) of the offending row. The spike check does not
reject an upload (an operator's file is reviewed by that operator), but the preview lists the moves
it would have held, so they are seen before confirming.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketdata import quality, services
from marketdata.calendars import get_calendar
from marketdata.models import Instrument, PriceBar, Split
from marketdata.providers.base import ProviderDataError
from marketdata.providers.offline import read_price_csv
from marketdata.services import bars as bar_store
from marketdata.signals import announce_bars


@dataclass
class UploadPreview:
    instrument: Instrument
    source: str
    bars: pd.DataFrame | None = None
    errors: list[str] = field(default_factory=list)
    new: int = 0
    unchanged: int = 0
    revised: list[tuple[date, float, float]] = field(default_factory=list)  # session, old close, new close
    spikes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return 0 if self.bars is None else len(self.bars)


def _lines_by_date(text: str) -> dict[str, int]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    if "date" not in header:
        return {}
    i = header.index("date")
    return {row[i].strip(): reader.line_num for row in reader if len(row) > i}


def preview_price_csv(instrument: Instrument, text: str, *, source: str) -> UploadPreview:
    """Every check of the import, nothing written."""
    preview = UploadPreview(instrument=instrument, source=source)
    lines = _lines_by_date(text)
    try:
        bars = read_price_csv(io.StringIO(text.lstrip("\ufeff")), source=source)
    except ProviderDataError as exc:
        message = str(exc)
        if exc.session is not None and str(exc.session) in lines:
            message = f"line {lines[str(exc.session)]}: {message}"
        preview.errors.append(message)
        return preview
    if bars.empty:
        preview.errors.append("the file has no rows")
        return preview
    report = quality.check_bars(
        bars,
        calendar=get_calendar(instrument.calendar_code),
        now=timezone.now(),
        history=bar_store._history_before(
            instrument, bars.index[0].date(), settings.HINDSIGHT_SPIKE_LOOKBACK + 1
        ),
        splits=list(Split.objects.filter(instrument=instrument).values_list("ex_date", "ratio")),
        max_sigmas=settings.HINDSIGHT_SPIKE_SIGMAS,
        lookback=settings.HINDSIGHT_SPIKE_LOOKBACK,
    )
    for flag in report.rejected:
        line = lines.get(flag.session.isoformat())
        where = f"line {line}" if line else str(flag.session)
        preview.errors.append(f"{where} ({flag.session}): {flag.reason}")
    preview.spikes = [f.describe() for f in report.held]
    if preview.errors:
        return preview
    preview.bars = bars
    stored = dict(
        PriceBar.objects.filter(
            instrument=instrument, session__gte=bars.index[0].date(), session__lte=bars.index[-1].date()
        ).values_list("session", "close")
    )
    existing = {
        row[0]: row[1:]
        for row in PriceBar.objects.filter(instrument=instrument, session__in=list(stored)).values_list(
            "session", *bar_store.PRICE_FIELDS
        )
    }
    for ts, row in zip(bars.index, bars.itertuples(index=False), strict=True):
        day = ts.date()
        values = tuple(bar_store._clean(getattr(row, f)) for f in bar_store.PRICE_FIELDS)
        if day not in existing:
            preview.new += 1
        elif all(bar_store._same(o, n) for o, n in zip(existing[day], values, strict=True)):
            preview.unchanged += 1
        else:
            preview.revised.append((day, stored[day], values[3]))
    return preview


@transaction.atomic
def import_price_csv(preview: UploadPreview, *, actor=None) -> services.UpsertResult:
    """Store a clean preview, all or nothing, and queue the rescoring it calls for."""
    if preview.errors or preview.bars is None:
        raise ValueError("only a preview without errors can be imported")
    result = services.ingest_bars(preview.instrument, preview.bars, source=preview.source, spike_check=False)
    if result.rejected:  # something changed between preview and import: keep nothing
        transaction.set_rollback(True)
        raise ValueError("; ".join(result.rejected))
    if result.first_changed_session is not None:
        announce_bars(
            preview.instrument.pk,
            revised_from=min(result.revised_sessions) if result.revised_sessions else None,
        )
    return result
