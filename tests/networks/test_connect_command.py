"""manage.py connect_channel (tokens from a file or standard input, never from argv) and list_channels."""

import io
import json
import random
import re
from datetime import UTC, datetime

import pytest
import responses
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from networks.management.commands.connect_channel import Command as ConnectChannel
from networks.models import Channel, ChannelStatus, Network
from networks.sandbox import sandbox_account_open, sandbox_citizen_writes
from networks.services import channel_mark_needs_reconnect
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.networks.payloads import payload

PAGE_TOKEN = "EAAGpage-token-from-a-system-user"


@pytest.fixture
def token_file(tmp_path):
    def write(content: str):
        path = tmp_path / "token"
        path.write_text(content, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def meta_api():
    """The Graph API as far as connecting goes: any Page subscribes to the app's webhooks."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(SUBSCRIBE, json={"success": True})
        yield mock


SUBSCRIBE = re.compile(r"https://graph\.facebook\.com/v[\d.]+/(\d+)/subscribed_apps")


def connect(*args: str) -> str:
    """Connect without the first look for messages (the tests of that mock the network's answers)."""
    out = io.StringIO()
    call_command("connect_channel", *args, "--no-check", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_facebook_page_token_from_a_file(db, token_file, meta_api):
    output = connect(
        "--network", "facebook", "--account-id", "104857321234567", "--name", "Empleo CV",
        "--token-file", token_file(PAGE_TOKEN + "\n"),
    )  # fmt: skip

    channel = Channel.objects.get()
    assert (channel.network, channel.account_id, channel.display_name, channel.status) == (
        "facebook",
        "104857321234567",
        "Empleo CV",
        ChannelStatus.ACTIVE,
    )
    assert channel.credentials == {"access_token": PAGE_TOKEN}
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM networks_channel WHERE id = %s", [channel.pk])
        assert PAGE_TOKEN not in cursor.fetchone()[0]
    assert PAGE_TOKEN not in output
    assert f"channel id {channel.pk}" in output
    assert AuditEvent.objects.filter(action=AuditAction.CHANNEL_CONNECTED).count() == 1


def test_the_token_can_come_from_standard_input(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("masto-app-token\n"))

    connect(
        "--network", "mastodon", "--account-id", "109348000000000001", "--name", "Ocupació",
        "--handle", "@ocupacio_gva@xarxa.example", "--instance-url", "xarxa.example", "--token-file", "-",
    )  # fmt: skip

    channel = Channel.objects.get()
    assert channel.handle == "ocupacio_gva@xarxa.example"
    assert channel.credentials == {"access_token": "masto-app-token", "api_base_url": "https://xarxa.example"}


def test_no_option_takes_a_token_on_the_command_line():
    parser = ConnectChannel().create_parser("manage.py", "connect_channel")
    options = {option for action in parser._actions for option in action.option_strings}

    assert not {option for option in options if "token" in option or "password" in option} - {"--token-file"}
    with pytest.raises(TypeError, match="Unknown option"):
        call_command(
            "connect_channel", network="facebook", account_id="1", name="x", token_file="-", token="secret"
        )


def test_reconnecting_the_same_account_replaces_its_credentials(db, token_file, meta_api):
    args = ["--network", "facebook", "--account-id", "104857321234567", "--name", "Empleo CV", "--token-file"]
    connect(*args, token_file("old-token"))
    channel_mark_needs_reconnect(channel=Channel.objects.get(), reason="revoked")

    connect(*args, token_file("new-token"))

    channel = Channel.objects.get()
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.credentials == {"access_token": "new-token"}


def test_instagram_needs_the_linked_page(db, token_file, meta_api):
    with pytest.raises(CommandError, match="--page-id"):
        connect(
            "--network",
            "instagram",
            "--account-id",
            "17841405822304914",
            "--name",
            "fp_cv",
            "--token-file",
            token_file(PAGE_TOKEN),
        )

    connect(
        "--network", "instagram", "--account-id", "17841405822304914", "--name", "fp_cv",
        "--page-id", "104857321234999", "--token-file", token_file(PAGE_TOKEN),
    )  # fmt: skip

    assert Channel.objects.get().credentials == {"access_token": PAGE_TOKEN, "page_id": "104857321234999"}
    assert SUBSCRIBE.match(meta_api.calls[-1].request.url).group(1) == "104857321234999"  # its Page


def test_a_meta_token_the_graph_refuses_is_said_at_once(db, token_file):
    refused = {"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}}
    with responses.RequestsMock() as graph:
        graph.post(SUBSCRIBE, json=refused, status=400)
        errors = io.StringIO()
        with pytest.raises(CommandError, match=r"refused the token: .*Error validating access token"):
            call_command(
                "connect_channel", "--network", "facebook", "--account-id", "104857321234567", "--name",
                "Empleo CV", "--token-file", token_file(PAGE_TOKEN), stdout=io.StringIO(), stderr=errors,
            )  # fmt: skip

    assert "Error validating access token" in errors.getvalue()
    channel = Channel.objects.get()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT  # the channels page says so too
    assert "Error validating access token" in channel.last_error


def test_bluesky_takes_an_app_password_and_needs_the_handle(db, token_file):
    with pytest.raises(CommandError, match="--handle"):
        connect(
            "--network",
            "bluesky",
            "--account-id",
            "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
            "--name",
            "Ocupació",
            "--token-file",
            token_file("abcd-efgh-ijkl-mnop"),
        )

    connect(
        "--network", "bluesky", "--account-id", "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "--name", "Ocupació",
        "--handle", "ocupacio.bsky.social", "--token-file", token_file("abcd-efgh-ijkl-mnop"),
    )  # fmt: skip

    assert Channel.objects.get().credentials == {
        "app_password": "abcd-efgh-ijkl-mnop",
        "handle": "ocupacio.bsky.social",
    }


def test_mastodon_needs_an_https_instance(db, token_file):
    with pytest.raises(CommandError, match="--instance-url"):
        connect("--network", "mastodon", "--account-id", "1", "--name", "M", "--token-file", token_file("t"))
    with pytest.raises(CommandError, match="https://"):
        connect(
            "--network",
            "mastodon",
            "--account-id",
            "1",
            "--name",
            "M",
            "--instance-url",
            "http://xarxa.example",
            "--token-file",
            token_file("t"),
        )
    assert not Channel.objects.exists()


def test_youtube_takes_a_refresh_token_and_the_configured_google_client(db, token_file, settings):
    args = [
        "--network",
        "youtube",
        "--account-id",
        "UCq3Ci-h945sbEYXpVlw7rJg",
        "--name",
        "LABORA",
        "--token-file",
    ]
    settings.SOCIALDESK_GOOGLE_CLIENT_ID = ""
    with pytest.raises(CommandError, match="SOCIALDESK_GOOGLE_CLIENT_ID"):
        connect(*args, token_file("1//refresh"))

    settings.SOCIALDESK_GOOGLE_CLIENT_ID = "google-client-id"
    settings.SOCIALDESK_GOOGLE_CLIENT_SECRET = "google-client-secret"
    connect(*args, token_file("1//refresh"))

    assert Channel.objects.get().credentials == {
        "refresh_token": "1//refresh",
        "client_id": "google-client-id",
        "client_secret": "google-client-secret",
    }


def test_x_takes_a_json_object_of_credentials(db, token_file):
    credentials = {
        "access_token": "x-access",
        "refresh_token": "x-refresh",
        "expires_at": "2026-03-05T14:00:00+00:00",
        "client_id": "x-client-id",
    }

    connect(
        "--network",
        "x",
        "--account-id",
        "1460000000000000000",
        "--name",
        "Ocupació",
        "--token-file",
        token_file(json.dumps(credentials)),
    )

    assert Channel.objects.get().credentials == credentials


@pytest.mark.parametrize(
    ("network", "content", "problem"),
    [
        ("myspace", "t", "No connector is installed for the network 'myspace'"),
        ("facebook", "   \n", "The token file is empty."),
        ("facebook", "{not json", "not valid JSON"),
        ("facebook", '["a"]', "must be an object"),
        ("facebook", '{"page_token": "t"}', "need 'access_token'"),
    ],
)
def test_what_cannot_be_connected_is_refused(db, token_file, network, content, problem):
    with pytest.raises(CommandError, match=problem):
        connect("--network", network, "--account-id", "1", "--name", "N", "--token-file", token_file(content))
    assert not Channel.objects.exists()


def test_a_missing_token_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read the token file"):
        connect(
            "--network",
            "facebook",
            "--account-id",
            "1",
            "--name",
            "N",
            "--token-file",
            str(tmp_path / "nope"),
        )


# --- list_channels ----------------------------------------------------------------------------------


def test_list_channels_shows_the_table_and_never_a_token(db, token_file):
    connect(
        "--network",
        "facebook",
        "--account-id",
        "104857321234567",
        "--name",
        "Empleo CV",
        "--token-file",
        token_file(PAGE_TOKEN),
    )
    connect(
        "--network",
        "linkedin",
        "--account-id",
        "5515715",
        "--name",
        "LABORA",
        "--token-file",
        token_file("li-secret-token"),
    )
    linkedin = Channel.objects.get(network=Network.LINKEDIN)
    channel_mark_needs_reconnect(
        channel=linkedin,
        reason="LinkedIn no longer accepts the API version 202511.",
        configuration_outdated=True,
    )
    Channel.objects.filter(network=Network.FACEBOOK).update(
        last_synced_at=datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
    )
    out = io.StringIO()

    call_command("list_channels", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["id", "network", "account", "name", "status", "last", "sync", "last", "error"]
    facebook = next(line for line in lines if "facebook" in line)
    assert "Empleo CV" in facebook and "active" in facebook and "2026-03-05 12:00" in facebook
    linkedin_line = next(line for line in lines if "linkedin" in line)
    assert "needs_reconnect (settings out of date)" in linkedin_line
    assert "LinkedIn no longer accepts the API version 202511." in linkedin_line
    assert PAGE_TOKEN not in out.getvalue() and "li-secret-token" not in out.getvalue()


def test_list_channels_with_none(db):
    out = io.StringIO()

    call_command("list_channels", stdout=out)

    assert out.getvalue() == "No channels.\n"


# --- The token tried at once -------------------------------------------------------------------------


def check(*args: str) -> tuple[str, str]:
    out, errors = io.StringIO(), io.StringIO()
    call_command("connect_channel", *args, stdout=out, stderr=errors)
    return out.getvalue(), errors.getvalue()


def test_a_working_token_is_tried_with_a_first_look_for_messages(db, token_file):
    account, credentials = sandbox_account_open(handle="ocupacio", display_name="Ocupació")
    sandbox_citizen_writes(account=account, rng=random.Random(3))

    output, errors = check(
        "--network", "sandbox", "--account-id", account.account_id, "--name", "Ocupació",
        "--token-file", token_file(credentials["access_token"]),
    )  # fmt: skip

    assert "The token works: a first look for messages brought 1." in output and errors == ""
    channel = Channel.objects.get()
    assert channel.status == ChannelStatus.ACTIVE and channel.last_synced_at is not None
    assert channel.messages.count() == 1


def test_a_token_the_network_refuses_stops_the_command_and_marks_the_channel(db, token_file):
    account, stale = sandbox_account_open(handle="ocupacio", display_name="Ocupació")
    sandbox_account_open(handle="ocupacio", display_name="Ocupació")  # a new token: the first one expires

    # The reason is the channel's, in the desk's language, as its page shows it.
    with pytest.raises(CommandError, match=r"refused the token: .* connect it again with a valid token"):
        check(
            "--network", "sandbox", "--account-id", account.account_id, "--name", "Ocupació",
            "--token-file", token_file(stale["access_token"]),
        )  # fmt: skip

    assert Channel.objects.get().status == ChannelStatus.NEEDS_RECONNECT


MASTODON = "https://mastodon.social"
MASTODON_ARGS = ("--network", "mastodon", "--account-id", "109348000000000001", "--name", "Ocupació",
                 "--instance-url", "mastodon.social")  # fmt: skip


def test_a_revoked_mastodon_token_is_said_at_once(db, token_file):
    with responses.RequestsMock() as instance:
        instance.get(f"{MASTODON}/api/v1/notifications", status=401, json=payload("mastodon", "error_unauthorized"))
        with pytest.raises(CommandError, match=r"Mastodon refused the token: .*The access token is invalid"):
            check(*MASTODON_ARGS, "--token-file", token_file("revoked-token"))

    assert Channel.objects.get().status == ChannelStatus.NEEDS_RECONNECT


def test_an_instance_that_cannot_answer_now_leaves_the_channel_connected_and_says_so(db, token_file):
    with responses.RequestsMock() as instance:
        instance.get(
            f"{MASTODON}/api/v1/notifications", status=503, json=payload("mastodon", "error_service_unavailable")
        )
        output, errors = check(*MASTODON_ARGS, "--token-file", token_file("masto-app-token"))

    assert "The token could not be tried now: " in errors and "Service Unavailable" in errors
    assert "Connected Mastodon channel" in output
    channel = Channel.objects.get()
    assert channel.status == ChannelStatus.ACTIVE and channel.next_poll_at is not None
