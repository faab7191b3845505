from pathlib import Path

from django.core.management.base import BaseCommand

from curation.opml import opml_export


class Command(BaseCommand):
    help = "Write every feed source as OPML 2.0 (categories as nested outlines), to stdout or --output."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="write to this file instead of stdout")

    def handle(self, *args, output: Path | None, **options):
        document = opml_export()
        if output is None:
            self.stdout.write(document, ending="")
        else:
            output.write_text(document, encoding="utf-8")
            self.stderr.write(f"Written to {output}.")
