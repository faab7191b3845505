"""Compile the translation catalogues with polib: `compilemessages` needs GNU gettext's msgfmt,
which a fresh machine does not have, and the compiled .mo files are committed."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogue_paths() -> list[Path]:
    return sorted(
        po_path
        for locale_dir in settings.LOCALE_PATHS
        for po_path in Path(locale_dir).glob("*/LC_MESSAGES/django.po")
    )


class Command(BaseCommand):
    help = "Compile every locale/<language>/LC_MESSAGES/django.po into django.mo (no GNU gettext needed)."

    def handle(self, *args, **options):
        paths = catalogue_paths()
        if not paths:
            raise CommandError(f"No django.po found under {', '.join(map(str, settings.LOCALE_PATHS))}.")
        for po_path in paths:
            catalogue = polib.pofile(str(po_path))
            # Like msgfmt, the .mo leaves out fuzzy and untranslated entries: Django falls back for those.
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
            untranslated = len(catalogue.untranslated_entries())
            fuzzy = len(catalogue.fuzzy_entries())
            self.stdout.write(
                f"{po_path.parent.parent.name}: {len(catalogue.translated_entries())} translated, "
                f"{untranslated} untranslated, {fuzzy} fuzzy → {po_path.with_suffix('.mo')}"
            )
