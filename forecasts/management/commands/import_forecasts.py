from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forecasts.importers import COLUMNS, ImportFailed, import_forecasts


class Command(BaseCommand):
    help = (
        "Import forecasts from a CSV file (columns: " + ",".join(COLUMNS) + "). "
        "All-or-nothing; importing the same file twice changes nothing. Scores nothing: run score_forecasts."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        try:
            result = import_forecasts(data)
        except ImportFailed as exc:
            raise CommandError(f"{file}: {exc}") from exc
        self.stdout.write(
            f"{file}: {result.rows} rows, {result.created} forecasts created, "
            f"{result.existing} already recorded, {result.sources_created} new sources"
        )
