from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from curation.models import FetchStatus, Source
from curation.services import source_fetch_claimed, sources_claim


class Command(BaseCommand):
    help = (
        "Fetch curation sources now, through the same claim and fetch code as the worker: the due "
        "ones (default), --all sources that are not muted, or --source ID (repeatable; muted too)."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--all", action="store_true", dest="everything", help="every source not muted, due or not"
        )
        which.add_argument(
            "--source",
            type=int,
            action="append",
            dest="source_ids",
            metavar="ID",
            help="this source (repeatable)",
        )

    def handle(self, *args, everything: bool, source_ids: list[int] | None, **options):
        if source_ids:
            missing = set(source_ids) - set(
                Source.objects.filter(pk__in=source_ids).values_list("id", flat=True)
            )
            if missing:
                raise CommandError(f"No source with id {', '.join(map(str, sorted(missing)))}.")
            ids, due_only, include_muted = source_ids, False, True
        else:
            sources = Source.objects.filter(muted=False)
            if not everything:
                sources = sources.filter(next_fetch_at__lte=timezone.now())
            ids, due_only, include_muted = (
                list(sources.order_by("next_fetch_at", "id").values_list("id", flat=True)),
                not everything,
                False,
            )
        failed = 0
        for source_id in ids:
            claimed = sources_claim(
                source_ids=[source_id], due_only=due_only, include_muted=include_muted, limit=1
            )
            if not claimed:
                self.stdout.write(f"#{source_id}: skipped, a worker is fetching it or its host right now")
                continue
            report = source_fetch_claimed(source_id=source_id)
            if report is None:
                continue
            if report.status == FetchStatus.ERROR:
                failed += 1
                self.stdout.write(f"#{source_id}: error ({report.error_kind}) {report.error_detail}")
            else:
                self.stdout.write(f"#{source_id}: {report.status}, {report.new_items} new")
                for warning in report.warnings:
                    self.stdout.write(f"#{source_id}:   warning: {warning}")
                if report.warning_count > len(report.warnings):
                    self.stdout.write(
                        f"#{source_id}:   and {report.warning_count - len(report.warnings)} more warnings"
                    )
        self.stdout.write(f"{len(ids)} source(s) considered, {failed} with errors.")
