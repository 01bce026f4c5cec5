from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from forecasts.editorial.importers import COLUMNS, ImportFailed, import_forecasts


class Command(BaseCommand):
    help = (
        "Import forecasts from a CSV file (columns: " + ",".join(COLUMNS) + "). "
        "All-or-nothing; importing the same file twice changes nothing. Run by the operator, the import "
        "publishes (possible duplicates wait for a reviewer); with --user it records as that user, whose "
        "role decides (an editor's rows are drafts). Scoring is queued once the import commits."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", help="Record as this user (their role applies).")
        parser.add_argument("--dry-run", action="store_true", help="Check everything, store nothing.")

    def handle(self, *args, file: Path, user: str | None = None, dry_run: bool = False, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user {user!r}")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        try:
            result = import_forecasts(data, actor=actor, dry_run=dry_run)
        except ImportFailed as exc:
            raise CommandError(f"{file}: {exc}") from exc
        except PermissionDenied as exc:
            raise CommandError(f"{file}: {exc}") from exc
        self.stdout.write(
            f"{file}: {result.rows} rows, {result.created} forecasts created"
            f"{' (dry run, nothing stored)' if dry_run else ''}, {result.existing} already recorded, "
            f"{result.flagged} held as possible duplicates, {result.sources_created} new sources"
        )
