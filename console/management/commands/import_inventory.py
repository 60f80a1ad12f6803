"""Import the inventory from a CSV file: `--dry-run` shows what each row would do and writes nothing."""
import sys

from django.core.management.base import BaseCommand, CommandError

from console.inventory import COLUMNS, inventory_import


class Command(BaseCommand):
    help = (f"Create or update assets from a CSV file with a header line (columns: {', '.join(COLUMNS)}). "
            "A file with any bad row imports nothing; every bad row is listed with its line number.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file, or - for standard input")
        parser.add_argument("--dry-run", action="store_true", help="check and show, write nothing")

    def handle(self, *args, path, dry_run, **options):
        try:
            text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8-sig").read()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        preview = inventory_import(text, dry_run=dry_run)
        for error in preview.errors:
            self.stderr.write(error)
        for row in preview.rows:
            if row.errors:
                self.stderr.write(f"line {row.line}: {row.hostname or '(no hostname)'}: {'; '.join(row.errors)}")
            elif row.action in ("create", "update") and options["verbosity"] >= 2:
                changes = ", ".join(f"{k} {old or '—'} → {new}" for k, (old, new) in row.changes.items())
                self.stdout.write(f"line {row.line}: {row.action} {row.hostname} {changes}".rstrip())
        counts = preview.counts
        summary = (f"{counts['create']} to create, {counts['update']} to update, {counts['unchanged']} unchanged, "
                   f"{counts['error']} with errors")
        if not preview.ok:
            raise CommandError(f"Nothing imported: {summary}. Fix the rows above and run again.")
        if dry_run:
            self.stdout.write(f"Dry run, nothing written: {summary}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported: {counts['create']} created, {counts['update']} updated, "
                                                 f"{counts['unchanged']} unchanged."))
