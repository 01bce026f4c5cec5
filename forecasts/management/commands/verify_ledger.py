from django.core.management.base import BaseCommand, CommandError

from forecasts.ledger import HeadError, check_extends, read_head, verify


class Command(BaseCommand):
    help = (
        "Recompute the hash chain of published claims and check every published forecast against its "
        "latest entry. Exits non-zero, listing each problem, if any claim was altered or removed outside "
        "the recorded process. With --against, also prove that today's chain extends a signed ledger head "
        "kept earlier (from /ledger/head.json or the Atom feed), which a regenerated chain cannot."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--against",
            action="append",
            default=[],
            metavar="HEAD_FILE_OR_URL",
            help="a kept head (JSON file or http(s) URL); may be given several times",
        )
        parser.add_argument(
            "--public-key",
            default=None,
            help="base64 Ed25519 public key the kept heads were signed with (default: this deployment's)",
        )

    def handle(self, *args, **options):
        result = verify()
        extended = []
        for source in options["against"]:
            try:
                kept = read_head(source)
                problems = check_extends(kept, options["public_key"])
            except HeadError as exc:
                problems = [f"{source}: {exc}"]
            if problems:
                result.problems.extend(problems)
            else:
                extended.append(f"#{kept['seq']} (signed at {kept['signed_at']})")
        if not result.ok:
            raise CommandError(
                f"ledger verification FAILED ({len(result.problems)} problem(s)):\n"
                + "\n".join(result.problems)
            )
        self.stdout.write(
            f"ledger OK: {result.entries} entries, {result.forecasts} published forecasts match"
        )
        for head in extended:
            self.stdout.write(f"ledger extends the kept head {head}")
