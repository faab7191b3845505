"""`manage.py rebuild_rollups`: derive every metrics rollup again from the reporting events,
messages and conversations (after a change of office hours or holidays, or to repair)."""

import time

from django.core.management.base import BaseCommand, CommandError

from metrics.rollups import RebuildRunning, rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the metrics rollups from the reporting events, messages and conversations."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()

        def progress(stage: str, done: int, total: int) -> None:
            if done == total or done % 10 == 0:
                self.stdout.write(f"{stage}: {done}/{total} ({time.monotonic() - started:.1f} s)")

        try:
            rollups_rebuild(progress=progress)
        except RebuildRunning as exc:
            raise CommandError("Another rebuild is running; try again when it has finished.") from exc
        self.stdout.write(self.style.SUCCESS(f"Rollups rebuilt in {time.monotonic() - started:.1f} s."))
