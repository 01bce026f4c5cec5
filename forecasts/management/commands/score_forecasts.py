from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError

from forecasts.services import forecasts_score
from marketdata.models import Instrument


class Command(BaseCommand):
    help = (
        "Score forecasts (the same service the score_forecasts task runs). With --as-of DATE, show how "
        "they stood at the end of that date (UTC), using only bars of sessions closed by then; "
        "an --as-of run is a report and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--instrument", metavar="SYM", help="Only forecasts on this instrument.")
        parser.add_argument("--as-of", metavar="DATE", help="ISO date, e.g. 2025-02-20.")

    def handle(self, *args, instrument=None, as_of=None, **options):
        instruments = Instrument.objects.all()
        if instrument:
            instruments = instruments.filter(symbol=instrument)
            if not instruments.exists():
                raise CommandError(f"unknown instrument {instrument!r}")
        as_of_dt = None
        if as_of:
            try:
                day = date.fromisoformat(as_of)
            except ValueError as exc:
                raise CommandError(f"--as-of {as_of!r}: expected an ISO date like 2025-02-20") from exc
            as_of_dt = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo("UTC"))
        for inst in instruments:
            summary = forecasts_score(inst, as_of=as_of_dt)
            if not summary.scored:
                continue
            counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_status.items()))
            verb = "as of " + as_of if as_of else f"{summary.changed} changed"
            self.stdout.write(f"{inst.symbol}: {summary.scored} scored ({counts}); {verb}")
            if as_of:
                for pk, result in summary.results:
                    self.stdout.write(
                        f"  #{pk} {result.status.value:7} {result.resolved_on or '':10} {result.note}"
                    )
