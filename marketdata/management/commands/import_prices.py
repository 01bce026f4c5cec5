from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marketdata.providers.base import ProviderDataError
from marketdata.providers.offline import read_price_csv
from marketdata.services import finished_sessions_only, get_or_create_instrument, upsert_price_bars


class Command(BaseCommand):
    help = (
        "Import daily prices from a CSV file or a folder of them (columns date,open,high,low,close,volume; "
        "open/high/low/volume may be blank). The file name without .csv is the symbol unless --symbol. "
        "Unknown symbols create an instrument with a guessed calendar. Re-importing changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--symbol", help="Symbol for a single file (default: the file name).")

    def handle(self, *args, path: Path, symbol=None, **options):
        if path.is_dir():
            files = sorted(path.glob("*.csv"))
            if symbol:
                raise CommandError("--symbol applies to a single file, not a folder")
            if not files:
                raise CommandError(f"no .csv files in {path}")
        elif path.is_file():
            files = [path]
        else:
            raise CommandError(f"{path}: no such file or folder")
        failed = []
        for file in files:
            sym = symbol or file.stem
            try:
                bars = read_price_csv(file)
            except ProviderDataError as exc:
                failed.append(f"{file}: {exc}")
                continue
            instrument, created = get_or_create_instrument(sym)
            bars, rejected = finished_sessions_only(bars, instrument.calendar_code, now=timezone.now())
            result = upsert_price_bars(instrument, bars, source=f"csv:{file.name}")
            note = " (new instrument, calendar " + instrument.calendar_code + ")" if created else ""
            self.stdout.write(
                f"{sym}{note}: {result.created} new, {result.updated} revised, {result.unchanged} unchanged, "
                f"{len(rejected)} rejected"
            )
            for reason in rejected[:20]:
                self.stdout.write(f"  rejected {reason}")
        if failed:
            raise CommandError("\n".join(failed))
