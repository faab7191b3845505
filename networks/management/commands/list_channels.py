from django.core.management.base import BaseCommand
from django.utils import timezone

from networks.models import Channel

COLUMNS = ("id", "network", "account", "name", "status", "last sync", "last error")


class Command(BaseCommand):
    help = "List the connected channels: id, network, account, name, status, last sync and last error (never tokens)."

    def handle(self, *args, **options):
        rows = [
            (
                str(channel.pk),
                channel.network,
                channel.account_id,
                channel.display_name,
                channel.status + (" (settings out of date)" if channel.configuration_outdated else ""),
                _moment(channel.last_synced_at),
                " ".join(channel.last_error.split()),
            )
            for channel in Channel.objects.only(
                "pk",
                "network",
                "account_id",
                "display_name",
                "status",
                "configuration_outdated",
                "last_synced_at",
                "last_error",
            )
        ]
        if not rows:
            self.stdout.write("No channels.")
            return
        widths = [max(len(row[index]) for row in [COLUMNS, *rows]) for index in range(len(COLUMNS) - 1)]
        for row in [COLUMNS, *rows]:
            # The last column (the error) is not padded: it is as long as it is.
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]).rstrip())


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"
