import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from forecasts.editorial.importers import import_forecasts
from forecasts.models import Source
from forecasts.services import forecasts_score
from marketdata.models import Instrument

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


class Command(BaseCommand):
    help = (
        "Load the demo: bundled real prices, the seed article's forecasts and the other demo forecasts, "
        "score everything, and create an admin user (password printed and kept in var/admin-password.txt). "
        "Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-admin", action="store_true", help="Do not create the admin user.")

    def handle(self, *args, no_admin=False, **options):
        call_command("import_prices", str(settings.HINDSIGHT_OFFLINE_DATA_DIR), stdout=self.stdout)
        # Through the one way in, as the operator (published; possible duplicates wait for review).
        # Only quotes are kept, not article texts: the source pages say so (forecasts/demo/SOURCES.md).
        result = import_forecasts((DEMO_DIR / "forecasts.csv").read_bytes())
        # Demos loaded before 2026-12 showed the seed's research notes as its article text: not article words.
        Source.objects.filter(article_text__contains="STATUS: ARTICLE TEXT NOT FOUND").update(
            article_text="", text_sha256=""
        )
        self.stdout.write(
            f"demo forecasts: {result.created} created, {result.existing} already there, "
            f"{result.flagged} held for review"
        )
        for instrument in Instrument.objects.all():
            summary = forecasts_score(instrument)
            if summary.scored:
                self.stdout.write(f"scored {instrument.symbol}: {summary.by_status}")
        if not no_admin:
            self._admin()

    def _admin(self) -> None:
        User = get_user_model()
        password_file = Path(settings.BASE_DIR) / "var" / "admin-password.txt"
        password_file.parent.mkdir(exist_ok=True)
        user = User.objects.filter(username="admin").first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                User.objects.create_superuser("admin", "admin@example.invalid", password)
            else:
                user.set_password(password)
                user.save()
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login: http://127.0.0.1:{os.environ.get('PORT', '8000')}/admin/  "
                f"user: admin  password: {password}"
            )
        )
