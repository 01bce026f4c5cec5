"""CSV import of forecasts: all-or-nothing, every error named by row and column.

Columns: strategist, firm, publication, url, title, published, quote, instrument,
kind, target, target_upper, other_instrument, basis, deadline, deadline_source.
Importing the same file twice changes nothing: sources are keyed by URL and a
forecast by (source, strategist, instrument, kind, quote).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from forecasts import services
from forecasts.models import DeadlineSource, Forecast, Kind
from marketdata.catalog import KNOWN_INSTRUMENTS
from marketdata.models import Instrument
from marketdata.services import get_or_create_instrument

COLUMNS = (
    "strategist",
    "firm",
    "publication",
    "url",
    "title",
    "published",
    "quote",
    "instrument",
    "kind",
    "target",
    "target_upper",
    "other_instrument",
    "basis",
    "deadline",
    "deadline_source",
)
REQUIRED = ("strategist", "publication", "url", "published", "quote", "instrument", "kind")
MAX_ROWS = 50_000


class ImportFailed(Exception):
    """The file was rejected; nothing was written. `errors` are 'row N, column C: message' lines."""

    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} error(s); nothing was imported:\n" + "\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    existing: int = 0
    sources_created: int = 0
    forecast_ids: list[int] = field(default_factory=list)
    instrument_ids: set[int] = field(default_factory=set)
    dry_run: bool = False


def _number(value: str) -> float | None:
    value = value.strip().replace(",", "").replace("_", "")
    if not value:
        return None
    number = float(value)  # ValueError -> reported by the caller
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _published(value: str) -> date | datetime:
    value = value.strip()
    if len(value) == 10:
        return date.fromisoformat(value)
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(
            "expected an ISO date (2025-02-14) or a datetime with offset (2025-02-14T16:10+08:00)"
        )
    if parsed.tzinfo is None:
        raise ValueError("a datetime needs a UTC offset, e.g. 2025-02-14T16:10+08:00")
    return parsed


def _instrument(symbol: str) -> Instrument:
    symbol = symbol.strip()
    found = services.instrument_by_name(symbol)
    if found:
        return found
    if symbol in KNOWN_INSTRUMENTS:
        return get_or_create_instrument(symbol)[0]
    raise ValueError(f"unknown instrument {symbol!r}: add it in the admin or import its prices first")


def read_forecast_csv(data: bytes | str) -> list[dict[str, str]]:
    """Parse and check the header; rows come back as dicts of stripped strings."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFailed([f"the file is not UTF-8 text (byte {exc.start})"]) from exc
    reader = csv.DictReader(io.StringIO(data, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"header: missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"header: unknown column(s) {', '.join(unknown)}; expected {', '.join(COLUMNS)}")
        raise ImportFailed(problems)
    rows = []
    for row in reader:
        if None in row:
            raise ImportFailed([f"row {reader.line_num}: more fields than the header has"])
        cells = {k.strip(): (v or "").strip() for k, v in row.items()}
        # Text columns cannot hold NUL (PostgreSQL refuses it); say where instead of failing later.
        bad = [k for k, v in cells.items() if "\x00" in v]
        if bad:
            raise ImportFailed([f"row {reader.line_num}, column {k}: contains a NUL byte" for k in bad])
        rows.append(cells)
        if len(rows) > MAX_ROWS:
            raise ImportFailed([f"more than {MAX_ROWS} rows; split the file"])
    return rows


def import_forecasts(
    data: bytes | str, *, actor=None, dry_run: bool = False, publish: bool = True
) -> ImportResult:
    """Import a forecasts CSV in one transaction; raise ImportFailed listing every bad cell.

    dry_run does everything, reports what would happen, and rolls back.
    publish=False records the forecasts as drafts for a reviewer.
    """
    rows = read_forecast_csv(data)
    result = ImportResult(rows=len(rows), dry_run=dry_run)
    errors: list[str] = []
    with transaction.atomic():
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            try:
                with transaction.atomic():
                    _import_row(row, result, actor, publish)
            except ValidationError as exc:
                for column, messages in exc.message_dict.items():
                    column = "made_at" if column == "__all__" else column
                    errors.extend(f"row {number}, column {column}: {m}" for m in messages)
            except _CellError as exc:
                errors.append(f"row {number}, column {exc.column}: {exc.message}")
        if errors or dry_run:
            transaction.set_rollback(True)
    if errors:
        raise ImportFailed(errors)
    return result


class _CellError(Exception):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column, self.message = column, message


def _cell(row: dict, column: str, parse):
    try:
        return parse(row.get(column, ""))
    except (ValueError, TypeError) as exc:
        raise _CellError(column, f"{row.get(column, '')!r}: {exc}") from exc


def _import_row(row: dict, result: ImportResult, actor, publish: bool) -> None:
    for column in REQUIRED:
        if not row.get(column):
            raise _CellError(column, "required")
    instrument = _cell(row, "instrument", _instrument)
    other = _cell(row, "other_instrument", lambda v: _instrument(v) if v.strip() else None)
    published = _cell(row, "published", _published)
    target = _cell(row, "target", _number)
    target_upper = _cell(row, "target_upper", _number)
    deadline = _cell(row, "deadline", lambda v: date.fromisoformat(v) if v else None)
    deadline_source = row.get("deadline_source") or (
        DeadlineSource.STATED if deadline else DeadlineSource.NONE
    )
    kind = row["kind"]
    if kind not in Kind.values:
        raise _CellError("kind", f"{kind!r} is not one of {', '.join(Kind.values)}")
    firm = services.firm_get_or_create(row.get("firm", ""))
    strategist = services.strategist_get_or_create(row["strategist"], firm=firm)
    source, created = services.source_get_or_create(
        url=row["url"],
        publication=row["publication"],
        title=row.get("title", ""),
        published=published,
        tz_name=instrument.timezone_name,
    )
    result.sources_created += int(created)
    made_at = (
        published
        if isinstance(published, datetime)
        else services.end_of_day(published, instrument.timezone_name)
    )
    existing = Forecast.all_objects.filter(
        source=source, strategist=strategist, instrument=instrument, kind=kind, quote=row["quote"]
    ).first()
    if existing:
        result.existing += 1
        result.forecast_ids.append(existing.pk)
        return
    forecast = services.forecast_create(
        strategist=strategist,
        firm=firm,
        source=source,
        quote=row["quote"],
        instrument=instrument,
        kind=kind,
        target=target,
        target_upper=target_upper,
        other_instrument=other,
        basis=row.get("basis") or "close",
        deadline=deadline,
        deadline_source=deadline_source,
        made_at=made_at,
        actor=actor,
        publish=publish,
    )
    result.created += 1
    result.forecast_ids.append(forecast.pk)
    result.instrument_ids.add(instrument.pk)
