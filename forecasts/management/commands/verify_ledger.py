from django.core.management.base import BaseCommand, CommandError

from forecasts.ledger import verify


class Command(BaseCommand):
    help = (
        "Recompute the hash chain of published claims and check every published forecast against its "
        "latest entry. Exits non-zero, listing each problem, if any claim was altered or removed outside "
        "the recorded process."
    )

    def handle(self, *args, **options):
        result = verify()
        if not result.ok:
            raise CommandError(
                f"ledger verification FAILED ({len(result.problems)} problem(s)):\n"
                + "\n".join(result.problems)
            )
        self.stdout.write(
            f"ledger OK: {result.entries} entries, {result.forecasts} published forecasts match"
        )
