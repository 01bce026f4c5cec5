"""Recompute the precomputed leaderboard aggregates, or check them against a live computation.

python manage.py rebuild_aggregates          # recompute every row
python manage.py rebuild_aggregates --check  # exit 1 listing every row that differs
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from forecasts.services import aggregates


class Command(BaseCommand):
    help = "Recompute (or --check) the per-strategist, firm and instrument aggregates the boards read."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare only; exit 1 on any difference")

    def handle(self, *args, check: bool = False, **options):
        if check:
            problems = aggregates.check()
            if problems:
                raise CommandError("aggregates differ from the forecasts:\n" + "\n".join(problems[:50]))
            self.stdout.write("aggregates agree with the forecasts")
            return
        self.stdout.write(f"{aggregates.rebuild()} aggregate rows rebuilt")
