from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lib.secretbox import SecretBoxError
from networks.credentials import credentials_box
from networks.models import Channel


class Command(BaseCommand):
    help = (
        "Encrypt every channel's credentials again with the newest key (the first of "
        "SOCIALDESK_ENCRYPTION_KEYS). Run it after putting a new key first; then the old keys can go."
    )

    def handle(self, *args, **options):
        box = credentials_box()
        rotated = 0
        failed = []
        channel_ids = Channel.objects.exclude(credentials_encrypted="").values_list("id", flat=True)
        for channel_id in list(channel_ids):
            # One row at a time, locked: a worker saving refreshed tokens meanwhile is not overwritten.
            with transaction.atomic():
                channel = Channel.objects.select_for_update().get(pk=channel_id)
                try:
                    channel.credentials_encrypted = box.rotate(channel.credentials_encrypted)
                except SecretBoxError:
                    failed.append(channel)
                    continue
                channel.save(update_fields=["credentials_encrypted"])
                rotated += 1
        self.stdout.write(f"Re-encrypted the credentials of {rotated} channel(s) with the newest key.")
        if failed:
            names = ", ".join(f"{channel} [id {channel.pk}]" for channel in failed)
            raise CommandError(
                f"{len(failed)} channel(s) could not be decrypted with any configured key and were left as they "
                f"were: {names}. Put back the key they were encrypted with, or reconnect them."
            )
