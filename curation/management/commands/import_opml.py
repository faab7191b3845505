from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from curation.opml import OpmlError, opml_import_create, opml_import_run


class Command(BaseCommand):
    help = (
        "Create a feed source for every feed listed in an OPML file (nested outlines become the "
        "source's category). Addresses that are already sources are left as they are, so running it "
        "twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the OPML file")

    def handle(self, *args, file: Path, **options):
        try:
            document = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file} cannot be read: {exc}") from exc
        try:
            opml_import = opml_import_create(document=document, file_name=file.name)
        except OpmlError as exc:
            raise CommandError(str(exc)) from exc
        opml_import = opml_import_run(opml_import=opml_import, on_progress=self._progress)
        if opml_import.error:
            raise CommandError(opml_import.error)
        self.stdout.write(
            f"{opml_import.total} feed(s) in {file.name}: {opml_import.created} new, "
            f"{opml_import.existing} already there, {opml_import.skipped} skipped."
        )

    def _progress(self, opml_import) -> None:
        self.stderr.write(f"{opml_import.done}/{opml_import.total}")
