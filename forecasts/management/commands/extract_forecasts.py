"""`python manage.py extract_forecasts FILE [--published DATE] --json`: candidate forecasts in an article.

FILE is a .txt or .html file, or - for stdin. The output is always a JSON list (empty when nothing was
found) with exactly the Candidate fields. Writes nothing to the database.
"""

import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forecasts.extraction import extract_forecasts, html_to_text

FIELDS = (
    "strategist",
    "firm",
    "quote",
    "instrument",
    "kind",
    "target",
    "target_upper",
    "deadline",
    "deadline_source",
    "hedge",
    "start",
    "end",
)
MAX_BYTES = 20_000_000


def _looks_like_html(name: str, text: str) -> bool:
    if name.lower().endswith((".html", ".htm", ".xhtml")):
        return True
    head = text.lstrip()[:500].lower()
    return head.startswith(("<!doctype html", "<html")) or ("<body" in head and "</" in text)


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192] and data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        raise CommandError(f"{name}: looks like a binary file, not text or HTML")
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CommandError(f"{name}: not UTF-8 text (invalid byte at offset {exc.start})") from exc


class Command(BaseCommand):
    help = "Print the candidate forecasts found in an article (.txt or .html; - for stdin) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to a .txt or .html file, or - for stdin")
        parser.add_argument(
            "--published", help="publication date (YYYY-MM-DD); resolves 'by year end', 'next year'..."
        )
        parser.add_argument(
            "--json", action="store_true", help="print JSON (the only format; accepted for clarity)"
        )

    def handle(self, *args, file: str, published: str | None, **options):
        when = None
        if published:
            try:
                when = date.fromisoformat(published)
            except ValueError as exc:
                raise CommandError(f"--published: expected YYYY-MM-DD, got {published!r}") from exc
        name = "<stdin>" if file == "-" else file
        try:
            if file == "-":
                data = sys.stdin.buffer.read(MAX_BYTES + 1)
            else:
                path = Path(file)
                if path.is_dir():
                    raise CommandError(f"{file}: is a directory, not a file")
                with path.open("rb") as handle:
                    data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"cannot read {name}: {exc.strerror or exc}") from exc
        if len(data) > MAX_BYTES:
            raise CommandError(f"{name}: larger than {MAX_BYTES} bytes; extract the article text first")
        if not data.strip():
            raise CommandError(f"{name}: the file is empty")
        text = _decode(data, name)
        if _looks_like_html(name, text):
            text = html_to_text(text)
        candidates = extract_forecasts(text, published=when)
        rows = [{k: asdict(c)[k] for k in FIELDS} for c in candidates]
        self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
