from django.core.management.base import BaseCommand, CommandError

from marketdata.models import Instrument
from marketdata.tasks import refresh_prices


class Command(BaseCommand):
    help = (
        "Fetch new bars from the configured provider (HINDSIGHT_PRICE_PROVIDER) and score what they affect, "
        "through the same task the scheduler runs (queued when REDIS_URL is set, in-process otherwise)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--instrument", metavar="SYM")

    def handle(self, *args, instrument=None, **options):
        instruments = Instrument.objects.filter(trading_ended_on__isnull=True)
        if instrument:
            instruments = Instrument.objects.filter(symbol=instrument)
            if not instruments.exists():
                raise CommandError(f"unknown instrument {instrument!r}")
        failed = []
        for inst in instruments:
            try:
                result = refresh_prices.delay(inst.pk)
                outcome = result.get() if result.ready() else f"queued as {result.id}"
            except Exception as exc:  # report every instrument, then fail
                failed.append(f"{inst.symbol}: {type(exc).__name__}: {exc}")
                continue
            self.stdout.write(f"{inst.symbol}: {outcome}")
        if failed:
            raise CommandError("refresh failed for:\n" + "\n".join(failed))
