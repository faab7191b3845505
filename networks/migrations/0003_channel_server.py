"""Channel.server: Mastodon account ids are unique only on their own instance, so the instance is part
of what tells two channels apart. Existing Mastodon channels get it from their stored credentials."""

import json
from urllib.parse import urlsplit

from django.db import migrations, models

from networks.credentials import credentials_box


def fill_mastodon_servers(apps, schema_editor):
    # The rule of networks.services.channel_server, as it was when this migration was written.
    Channel = apps.get_model("networks", "Channel")
    for channel in Channel.objects.filter(network="mastodon").exclude(credentials_encrypted=""):
        credentials = json.loads(credentials_box().decrypt(channel.credentials_encrypted))
        channel.server = urlsplit(str(credentials.get("api_base_url", ""))).netloc.lower()
        channel.save(update_fields=["server"])


class Migration(migrations.Migration):
    dependencies = [
        ("networks", "0002_webhook_events_configuration_outdated"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="server",
            field=models.CharField(blank=True, default="", max_length=255, verbose_name="server"),
        ),
        migrations.RunPython(fill_mastodon_servers, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="channel",
            name="channel_unique_network_account",
        ),
        migrations.AddConstraint(
            model_name="channel",
            constraint=models.UniqueConstraint(
                fields=("network", "server", "account_id"), name="channel_unique_network_server_account"
            ),
        ),
    ]
