"""The administrator reads channels and disables them in the admin; citizens' messages stay out of it."""

import pytest
from django.urls import reverse

from inbox.services import message_ingest
from networks.models import ChannelStatus, SandboxAccount, SandboxFailure
from socialdesk.models import AuditEvent
from socialdesk.models.audit import AuditAction
from tests.networks.fixtures import inbound


@pytest.fixture
def admin_client(client, administrator):
    administrator.is_staff = True
    administrator.save(update_fields=["is_staff"])
    client.force_login(administrator)
    return client


def test_channels_are_listed_and_disabled_through_the_service(admin_client, administrator, sandbox_channel):
    changelist = reverse("admin:networks_channel_changelist")
    assert sandbox_channel.display_name in admin_client.get(changelist).content.decode()

    response = admin_client.post(changelist, {"action": "disable", "_selected_action": [sandbox_channel.pk]})

    assert response.status_code == 302
    sandbox_channel.refresh_from_db()
    assert sandbox_channel.status == ChannelStatus.DISABLED
    assert AuditEvent.objects.get(action=AuditAction.CHANNEL_DISABLED).actor == administrator


def test_the_credentials_never_show_in_the_admin(admin_client, sandbox_channel):
    page = admin_client.get(
        reverse("admin:networks_channel_change", args=[sandbox_channel.pk])
    ).content.decode()
    assert sandbox_channel.credentials["access_token"] not in page
    assert sandbox_channel.credentials_encrypted not in page


def test_the_sandbox_failure_is_chosen_in_the_admin(admin_client, sandbox_account):
    url = reverse("admin:networks_sandboxaccount_change", args=[sandbox_account.pk])
    response = admin_client.post(
        url,
        {
            "failure": SandboxFailure.RATE_LIMITED,
            "next_citizen_message_at_0": "",
            "next_citizen_message_at_1": "",
        },
    )
    assert response.status_code == 302
    assert SandboxAccount.objects.get(pk=sandbox_account.pk).failure == SandboxFailure.RATE_LIMITED


def test_the_administrator_cannot_read_citizens_messages_in_the_admin(admin_client, sandbox_channel):
    message = message_ingest(channel=sandbox_channel, inbound=inbound(text="Mi DNI acaba en 4521"))

    assert admin_client.get(reverse("admin:inbox_message_changelist")).status_code == 403
    assert admin_client.get(reverse("admin:inbox_message_change", args=[message.pk])).status_code in {
        302,
        403,
    }
    assert "Mi DNI" not in admin_client.get(reverse("admin:index")).content.decode()
