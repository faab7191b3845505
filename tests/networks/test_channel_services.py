"""Connecting, losing authorization and disabling a channel, each with its audit record."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from networks.credentials import credentials_box
from networks.models import Channel, ChannelStatus, Network
from networks.selectors import channels_needing_attention_count
from networks.services import channel_connect, channel_disable, channel_mark_needs_reconnect
from socialdesk.models import AuditEvent
from socialdesk.models.audit import AuditAction
from tests.networks.fixtures import make_sandbox_channel


def test_connect_creates_an_active_channel_due_for_a_check_and_audits(administrator):
    channel = channel_connect(
        network=Network.SANDBOX,
        account_id="1234567890123456789",
        display_name="Empleo",
        handle="empleo",
        credentials={"access_token": "t"},
        actor=administrator,
    )

    assert channel.status == ChannelStatus.ACTIVE
    assert channel.next_poll_at <= timezone.now()
    event = AuditEvent.objects.get(action=AuditAction.CHANNEL_CONNECTED)
    assert event.actor == administrator
    assert event.target_id == str(channel.pk)
    assert event.details == {"network": "sandbox", "reconnected": False}


def test_reconnecting_updates_the_same_channel_and_keeps_its_cursor(administrator, sandbox_channel):
    Channel.objects.filter(pk=sandbox_channel.pk).update(inbound_cursor={"after": 7})
    channel_mark_needs_reconnect(channel=sandbox_channel, reason="token revoked")

    again = channel_connect(
        network=Network.SANDBOX,
        account_id=sandbox_channel.account_id,
        display_name="Empleo (nuevo nombre)",
        credentials={"access_token": "fresh"},
        actor=administrator,
    )

    assert again.pk == sandbox_channel.pk
    assert again.status == ChannelStatus.ACTIVE
    assert again.last_error == ""
    assert again.inbound_cursor == {"after": 7}
    assert again.credentials == {"access_token": "fresh"}
    assert (
        AuditEvent.objects.filter(action=AuditAction.CHANNEL_CONNECTED).first().details["reconnected"] is True
    )


def test_connect_refuses_a_network_without_connector(only_sandbox_installed, db):
    with pytest.raises(ValueError, match="No connector"):
        channel_connect(network=Network.X, account_id="1", display_name="X", credentials={})


def test_needs_reconnect_stops_polling_tells_why_and_audits_once(sandbox_channel):
    channel_mark_needs_reconnect(channel=sandbox_channel, reason="token revoked")
    channel_mark_needs_reconnect(channel=sandbox_channel, reason="token revoked")

    assert sandbox_channel.status == ChannelStatus.NEEDS_RECONNECT
    assert sandbox_channel.next_poll_at is None
    assert "token revoked" in sandbox_channel.last_error
    assert sandbox_channel.last_error_at is not None
    events = AuditEvent.objects.filter(action=AuditAction.CHANNEL_RECONNECT_NEEDED)
    assert events.count() == 1
    assert events.get().details == {"reason": "token revoked"}


def test_disable_forgets_credentials_and_audits(administrator, sandbox_channel):
    channel_disable(channel=sandbox_channel, actor=administrator)

    assert sandbox_channel.status == ChannelStatus.DISABLED
    assert sandbox_channel.credentials_encrypted == ""
    assert sandbox_channel.next_poll_at is None
    assert AuditEvent.objects.get(action=AuditAction.CHANNEL_DISABLED).actor == administrator


def test_a_disabled_channel_is_not_marked_needs_reconnect(administrator, sandbox_channel):
    channel_disable(channel=sandbox_channel, actor=administrator)
    channel_mark_needs_reconnect(channel=sandbox_channel, reason="whatever")
    assert sandbox_channel.status == ChannelStatus.DISABLED
    assert not AuditEvent.objects.filter(action=AuditAction.CHANNEL_RECONNECT_NEEDED).exists()


def test_channels_needing_attention_counts_reconnects_and_active_channels_with_problems(administrator, db):
    make_sandbox_channel("uno")  # fine: active, no problem
    _, broken = make_sandbox_channel("dos")
    _, failing = make_sandbox_channel("tres")
    _, disabled = make_sandbox_channel("cuatro")
    channel_mark_needs_reconnect(channel=broken, reason="expired")
    Channel.objects.filter(pk=failing.pk).update(last_error="Checking for messages failed")
    channel_disable(channel=disabled, actor=administrator)

    assert channels_needing_attention_count() == 2


def _mastodon(account_id: str, instance: str, issued: str = "first") -> Channel:
    return channel_connect(
        network=Network.MASTODON,
        account_id=account_id,
        display_name=f"Empleo en {instance}",
        credentials={"api_base_url": f"https://{instance}", "access_token": issued},
    )


def test_the_same_account_id_on_two_mastodon_instances_is_two_channels(db):
    # Each instance numbers its accounts: account 1 of one is not account 1 of the other.
    first = _mastodon("1", "social.example")
    second = _mastodon("1", "other.example")
    again = _mastodon("1", "Social.Example", issued="fresh")

    assert first.pk != second.pk
    assert again.pk == first.pk
    assert Channel.objects.get(pk=first.pk).credentials["access_token"] == "fresh"
    assert Channel.objects.get(pk=second.pk).credentials["access_token"] == "first"
    assert (first.server, second.server) == ("social.example", "other.example")


@pytest.mark.django_db(transaction=True)
def test_existing_mastodon_channels_learn_their_instance_from_their_credentials():
    before = [("networks", "0002_webhook_events_configuration_outdated")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_channel = executor.loader.project_state(before).apps.get_model("networks", "Channel")
    sealed = credentials_box().encrypt(
        json.dumps({"api_base_url": "https://Social.Example", "access_token": "t"})
    )
    old_channel.objects.create(
        network="mastodon", account_id="1", display_name="M", credentials_encrypted=sealed
    )
    old_channel.objects.create(
        network="mastodon", account_id="2", display_name="Disabled", credentials_encrypted=""
    )
    old_channel.objects.create(network="x", account_id="1", display_name="X", credentials_encrypted=sealed)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    servers = {(channel.network, channel.account_id): channel.server for channel in Channel.objects.all()}
    assert servers == {("mastodon", "1"): "social.example", ("mastodon", "2"): "", ("x", "1"): ""}
