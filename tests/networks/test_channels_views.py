"""/channels/: who sees what, each account's state in plain words, and disabling with confirmation."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from networks.base import ConfigurationOutdated
from networks.models import Channel, ChannelStatus, Network, WebhookEvent, WebhookSource
from networks.selectors import webhook_deliveries_unread
from networks.services import channel_connect, channel_mark_needs_reconnect, channel_poll
from socialdesk.models.audit import AuditAction, AuditEvent

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)  # 13:00 in Madrid
CHANNELS = reverse("networks:channels")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def in_english(client):
    """Pages in English, and the reasons the services store (written in the active language) too."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def public_address(settings):
    """Enough for Mastodon's connect flow (it needs no app of its own)."""
    settings.SOCIALDESK_PUBLIC_URL = "https://desk.example.org"


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def mastodon(db):
    return channel_connect(
        network=Network.MASTODON,
        account_id="109348000000000001",
        display_name="Ocupació GVA",
        handle="ocupacio_gva@xarxa.example",
        credentials={"api_base_url": "https://xarxa.example", "access_token": "masto-secret-token"},
    )


def disable_url(channel) -> str:
    return reverse("networks:disable", args=[channel.pk])


# --- who may do what ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, mastodon):
    for url in (CHANNELS, disable_url(mastodon), reverse("networks:connect_bluesky")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse('login')}?next=")
    assert client.post(disable_url(mastodon))["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["outsider", "supervisor"])
def test_people_without_the_channels_capability_are_refused(client, request, role, mastodon):
    client.force_login(request.getfixturevalue(role))

    assert client.get(CHANNELS).status_code == 403
    assert client.post(disable_url(mastodon)).status_code == 403


def test_the_manager_connects_reconnects_and_disables_like_the_administrator(client, manager, mastodon):
    client.force_login(manager)

    html = client.get(CHANNELS).content.decode()

    assert "Ocupació GVA" in html
    assert "Connect an account" in html
    assert f'href="{disable_url(mastodon)}"' in html
    assert client.get(reverse("networks:connect_mastodon")).status_code == 200
    assert client.post(disable_url(mastodon)).status_code == 302
    mastodon.refresh_from_db()
    assert mastodon.status == ChannelStatus.DISABLED


def test_the_administrator_sees_every_action(admin_client, mastodon):
    html = admin_client.get(CHANNELS).content.decode()

    assert "Connect an account" in html
    assert f'href="{disable_url(mastodon)}"' in html
    assert f'href="{reverse("networks:connect_mastodon")}?instance=xarxa.example"' in html
    assert f'href="{reverse("networks:connect_bluesky")}"' in html


def test_the_navigation_leads_to_the_channels(client, manager):
    client.force_login(manager)

    html = client.get(reverse("home")).content.decode()

    assert f'href="{CHANNELS}"' in html


def test_the_page_is_in_spanish_by_default(admin_client, mastodon):
    html = admin_client.get(CHANNELS, HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "<h1>Canales</h1>" in html
    assert "Activo" in html


# --- what the page says ------------------------------------------------------------------------


def test_each_account_shows_network_status_and_last_check(admin_client, mastodon):
    Channel.objects.filter(pk=mastodon.pk).update(last_synced_at=NOW - timedelta(minutes=3))

    html = admin_client.get(CHANNELS).content.decode()

    assert "Mastodon" in html
    assert "@ocupacio_gva@xarxa.example" in html
    assert "Active" in html
    assert "5 Mar 2026, 12:57" in html  # Europe/Madrid


def test_a_rate_limit_shows_until_when(admin_client, mastodon):
    Channel.objects.filter(pk=mastodon.pk).update(
        rate_limited_until=datetime(2026, 3, 5, 13, 35, tzinfo=UTC),
        last_error="The network asked us to slow down; SocialDesk checks for messages again at 14:35.",
    )

    html = admin_client.get(CHANNELS).content.decode()

    assert "Limited until 14:35" in html
    assert "checks for messages again at 14:35" in html


def test_a_rate_limit_that_is_over_is_not_shown(admin_client, mastodon):
    Channel.objects.filter(pk=mastodon.pk).update(rate_limited_until=NOW - timedelta(minutes=1))

    assert "Limited until" not in admin_client.get(CHANNELS).content.decode()


def test_a_channel_needing_reconnection_says_why_and_offers_to_reconnect(admin_client, mastodon):
    channel_mark_needs_reconnect(channel=mastodon, reason="The access token was revoked")

    html = admin_client.get(CHANNELS).content.decode()

    assert "Needs reconnecting" in html
    assert "The access token was revoked" in html
    assert "An administrator must reconnect the channel." in html
    assert ">Reconnect<" in html


def test_an_outdated_api_version_asks_for_a_settings_change_not_a_reconnection(admin_client, db):
    linkedin = channel_connect(
        network=Network.LINKEDIN,
        account_id="5515715",
        display_name="LABORA",
        credentials={"access_token": "t"},
    )

    class RetiredVersion:
        poll_interval = timedelta(minutes=10)

        def fetch_inbound(self, *, cursor):
            raise ConfigurationOutdated(
                "LinkedIn no longer accepts the API version 202511 that SocialDesk is configured with. An "
                "administrator must set SOCIALDESK_LINKEDIN_VERSION to a current version (YYYYMM)."
            )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("networks.services.connector_for", lambda channel: RetiredVersion())
        channel_poll(channel=linkedin)

    linkedin.refresh_from_db()
    assert (linkedin.status, linkedin.configuration_outdated) == (ChannelStatus.NEEDS_RECONNECT, True)
    assert "must reconnect" not in linkedin.last_error
    html = admin_client.get(CHANNELS).content.decode()
    assert "Settings out of date" in html
    assert "SOCIALDESK_LINKEDIN_VERSION" in html
    assert "Reconnecting alone does not help" in html
    assert "Needs reconnecting" not in html


def test_reconnecting_clears_the_outdated_settings_state(db):
    channel = channel_connect(
        network=Network.LINKEDIN,
        account_id="5515715",
        display_name="LABORA",
        credentials={"access_token": "t"},
    )
    channel_mark_needs_reconnect(channel=channel, reason="version retired", configuration_outdated=True)

    channel = channel_connect(
        network=Network.LINKEDIN,
        account_id="5515715",
        display_name="LABORA",
        credentials={"access_token": "t2"},
    )

    assert (channel.status, channel.configuration_outdated, channel.last_error) == (
        ChannelStatus.ACTIVE,
        False,
        "",
    )


def test_the_page_never_shows_tokens(admin_client, mastodon):
    assert "masto-secret-token" not in admin_client.get(CHANNELS).content.decode()


def test_an_empty_desk_says_so(admin_client):
    assert "No account is connected yet." in admin_client.get(CHANNELS).content.decode()


def test_the_page_costs_the_same_queries_whatever_the_number_of_channels(
    admin_client, mastodon, django_assert_max_num_queries
):
    for number in range(5):
        channel_connect(
            network=Network.FACEBOOK,
            account_id=f"10485732123456{number}",
            display_name=f"Página {number}",
            credentials={"access_token": f"page-token-{number}"},
        )

    with django_assert_max_num_queries(4):  # session, user, channels (+ a savepoint at most)
        admin_client.get(CHANNELS)


# --- disabling ------------------------------------------------------------------------------------


def test_disabling_asks_first(admin_client, mastodon):
    page = admin_client.get(disable_url(mastodon))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Disable Ocupació GVA (Mastodon)?" in html
    assert f'action="{disable_url(mastodon)}"' in html and 'method="post"' in html
    mastodon.refresh_from_db()
    assert mastodon.status == ChannelStatus.ACTIVE


def test_disabling_stops_the_channel_forgets_its_access_and_audits(admin_client, administrator, mastodon):
    response = admin_client.post(disable_url(mastodon))

    assert response["Location"] == CHANNELS
    mastodon.refresh_from_db()
    assert (mastodon.status, mastodon.credentials_encrypted, mastodon.next_poll_at) == (
        ChannelStatus.DISABLED,
        "",
        None,
    )
    event = AuditEvent.objects.get(action=AuditAction.CHANNEL_DISABLED)
    assert event.actor == administrator
    html = admin_client.get(CHANNELS).content.decode()
    assert "Disabled" in html
    assert disable_url(mastodon) not in html
    assert "Connect again" in html


def test_disabling_a_channel_that_does_not_exist_is_not_found(admin_client, db):
    assert admin_client.post(reverse("networks:disable", args=[999])).status_code == 404


def test_the_channels_page_takes_only_get(admin_client):
    assert admin_client.post(CHANNELS).status_code == 405


def test_times_are_shown_in_madrid(admin_client, mastodon):
    Channel.objects.filter(pk=mastodon.pk).update(last_synced_at=datetime(2026, 7, 1, 8, 0, tzinfo=UTC))

    assert "1 Jul 2026, 10:00" in admin_client.get(CHANNELS).content.decode()


def test_pushed_deliveries_that_could_not_be_read_are_summed_up_on_the_page(admin_client, mastodon):
    def delivered(minutes_ago: int, **fields) -> None:
        event = WebhookEvent.objects.create(source=WebhookSource.META, body="{}", **fields)
        WebhookEvent.objects.filter(pk=event.pk).update(received_at=NOW - timedelta(minutes=minutes_ago))

    delivered(8 * 24 * 60, processed_at=NOW, error="Fuera de la ventana de 7 días")
    delivered(60, processed_at=NOW)  # read in full
    delivered(2)  # not processed yet
    delivered(30, processed_at=NOW, error="An entry for 1 could not be read (KeyError('x')).")
    delivered(5, processed_at=NOW, error="Processing it failed twice (ZeroDivisionError).")

    [row] = webhook_deliveries_unread(now=NOW)
    assert (row.count, row.latest_error) == (2, "Processing it failed twice (ZeroDivisionError).")
    page = admin_client.get(reverse("networks:channels")).content.decode()
    assert "Pushed messages that could not be read" in page
    assert "2 deliveries in the last 7 days." in page
    assert "Processing it failed twice (ZeroDivisionError)." in page


def test_no_such_section_when_every_delivery_was_read(admin_client, mastodon):
    WebhookEvent.objects.create(source=WebhookSource.META, body="{}", processed_at=NOW)
    assert webhook_deliveries_unread(now=NOW) == []
    assert (
        "Pushed messages that could not be read"
        not in admin_client.get(reverse("networks:channels")).content.decode()
    )
