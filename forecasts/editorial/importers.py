"""CSV import of forecasts: all-or-nothing, every error named by row and column.

Columns: strategist, firm, publication, url, title, published, quote, instrument,
kind, target, target_upper, other_instrument, basis, deadline, deadline_source,
and optionally confirm_reason (a reviewer confirming a target far from the market) and supersedes
(the id of the same strategist's earlier forecast this row revises: "raised to 8,800 from 8,610").
Each row goes through forecasts.services.recording.record_source, the one way in, so a row
obeys the same rules as the desk, the admin and the API. Importing the same file
twice changes nothing (a forecast is its claim: source, strategist, instrument,
kind, targets, basis and deadline); two claims quoted in one sentence are two rows
and two forecasts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from forecasts.services import aggregates
from forecasts.services.recording import ForecastInput, RecordingRefused, SourceInput, record_source

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
    "confirm_reason",
    "supersedes",
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
    flagged: int = 0  # stored, but held for a reviewer as a possible duplicate
    sources_created: int = 0
    forecast_ids: list[int] = field(default_factory=list)
    dry_run: bool = False


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


def import_forecasts(data: bytes | str, *, actor=None, dry_run: bool = False) -> ImportResult:
    """Import a forecasts CSV in one transaction; raise ImportFailed listing every bad cell.

    dry_run does everything, reports what would happen, and rolls back. Whether the
    forecasts are published or wait as drafts is the recording service's decision
    (the actor's role); scoring is queued once the import commits.
    """
    rows = read_forecast_csv(data)
    result = ImportResult(rows=len(rows), dry_run=dry_run)
    errors: list[str] = []
    with transaction.atomic():
        with aggregates.batched():  # one refresh of the boards' figures per import
            for number, row in enumerate(rows, start=2):  # row 1 is the header
                missing = [c for c in REQUIRED if not row.get(c)]
                if missing:
                    errors.extend(f"row {number}, column {c}: required" for c in missing)
                    continue
                try:
                    recorded = record_source(_source(row), [_forecast(row)], actor=actor)
                except RecordingRefused as exc:
                    errors.extend(_row_errors(number, exc))
                    continue
                result.sources_created += int(recorded.source_created)
                result.forecast_ids += [item.forecast.pk for item in recorded.items]
                result.created += len(recorded.created)
                result.existing += len(recorded.existing)
                result.flagged += len(recorded.flagged)
        if errors or dry_run:
            transaction.set_rollback(True)
    if errors:
        raise ImportFailed(errors)
    return result


def _source(row: dict) -> SourceInput:
    return SourceInput(
        url=row["url"],
        publication=row["publication"],
        title=row.get("title", ""),
        published=row["published"],
    )


def _forecast(row: dict) -> ForecastInput:
    return ForecastInput(
        strategist=row["strategist"],
        firm=row.get("firm", ""),
        quote=row["quote"],
        instrument=row["instrument"],
        kind=row["kind"],
        target=row.get("target", ""),
        target_upper=row.get("target_upper", ""),
        other_instrument=row.get("other_instrument") or None,
        basis=row.get("basis") or "close",
        deadline=row.get("deadline") or None,
        deadline_source=row.get("deadline_source") or None,
        # A reviewer confirms a target far from the market by giving the reason in this column.
        confirm_implausible=bool(row.get("confirm_reason")),
        confirm_reason=row.get("confirm_reason", ""),
        supersedes=row.get("supersedes") or None,
    )


# The recording service's field names, in this file's columns (made_at is the publication here).
_COLUMN_OF = {"made_at": "published", "non_field_errors": "row", "forecasts": "row"}


def _row_errors(number: int, exc: RecordingRefused) -> list[str]:
    lines = []
    for name, messages in exc.source_errors.items():
        lines += [f"row {number}, column {_COLUMN_OF.get(name, name)}: {m}" for m in messages]
    for item_errors in exc.forecast_errors.values():
        for name, messages in item_errors.items():
            lines += [f"row {number}, column {_COLUMN_OF.get(name, name)}: {m}" for m in messages]
    return lines
