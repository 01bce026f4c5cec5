from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from marketdata.providers.base import ProviderDataError
from marketdata.providers.offline import CORPORATE_ACTIONS_FILE, read_raw_price_file
from marketdata.services import get_or_create_instrument, ingest_bars, store_splits


class Command(BaseCommand):
    help = (
        "Import daily prices from a CSV file or a folder of them (columns date,open,high,low,close,volume; "
        "open/high/low/volume may be blank). The file name without .csv is the symbol unless --symbol. "
        "Unknown symbols create an instrument with a guessed calendar. Re-importing changes nothing. "
        "A corporate_actions.csv next to the files (symbol,ex_date,ratio,basis) records splits and, for "
        "files marked adjusted_in_file, turns the split-adjusted rows back into raw prices."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--symbol", help="Symbol for a single file (default: the file name).")

    def handle(self, *args, path: Path, symbol=None, **options):
        if path.is_dir():
            files = sorted(p for p in path.glob("*.csv") if p.name != CORPORATE_ACTIONS_FILE)
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
            source = f"csv:{file.name}"[:32]
            try:
                bars, splits = read_raw_price_file(file, symbol=file.stem, source=source)
            except ProviderDataError as exc:
                failed.append(f"{file}: {exc}")
                continue
            instrument, created = get_or_create_instrument(sym)
            with transaction.atomic():
                store_splits(instrument, splits, source=source)
                # An operator's file: hard checks only; the spike check is for automatic fetches.
                result = ingest_bars(instrument, bars, source=source, now=timezone.now(), spike_check=False)
            rejected = result.rejected
            note = " (new instrument, calendar " + instrument.calendar_code + ")" if created else ""
            split_note = f", {len(splits)} split(s)" if len(splits) else ""
            self.stdout.write(
                f"{sym}{note}: {result.created} new, {result.updated} revised, {result.unchanged} unchanged, "
                f"{len(rejected)} rejected{split_note}"
            )
            for reason in rejected[:20]:
                self.stdout.write(f"  rejected {reason}")
        if failed:
            raise CommandError("\n".join(failed))
