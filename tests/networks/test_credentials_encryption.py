"""Network tokens are encrypted at rest with rotatable keys."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from lib.secretbox import InvalidKeyError, SecretBox, UndecryptableError, development_key
from networks.credentials import credentials_box
from networks.models import Channel, Network
from networks.services import channel_connect

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
TOKEN = "EAAB-very-secret-page-token-1234567890"


def _raw_credentials_column(channel_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM networks_channel WHERE id = %s", [channel_id])
        return cursor.fetchone()[0]


def _connect(**credentials) -> Channel:
    return channel_connect(
        network=Network.SANDBOX, account_id="acc-1", display_name="Empleo", credentials=credentials
    )


def test_secret_box_round_trip_and_ciphertext_hides_the_secret():
    box = SecretBox([NEW_KEY])
    token = box.encrypt(TOKEN)
    assert TOKEN not in token
    assert box.decrypt(token) == TOKEN


def test_secret_box_reads_old_keys_encrypts_with_the_newest_and_rotates():
    old_token = SecretBox([OLD_KEY]).encrypt(TOKEN)
    both = SecretBox([NEW_KEY, OLD_KEY])
    assert both.decrypt(old_token) == TOKEN
    rotated = both.rotate(old_token)
    assert SecretBox([NEW_KEY]).decrypt(rotated) == TOKEN
    assert SecretBox([NEW_KEY]).decrypt(both.encrypt(TOKEN)) == TOKEN
    with pytest.raises(UndecryptableError):
        SecretBox([OLD_KEY]).decrypt(rotated)


@pytest.mark.parametrize("keys", [[], ["not-a-key"], [NEW_KEY, "short"]])
def test_secret_box_refuses_bad_keys_clearly_without_echoing_them(keys):
    with pytest.raises(InvalidKeyError) as excinfo:
        SecretBox(keys)
    message = str(excinfo.value)
    assert "key" in message
    for key in keys:
        assert key not in message


def test_undecryptable_token_says_what_probably_happened():
    with pytest.raises(UndecryptableError, match="cannot be decrypted with any of the 1 configured key"):
        SecretBox([NEW_KEY]).decrypt("gAAAAA-damaged")


def test_development_key_is_a_stable_fernet_key_per_secret():
    key = development_key("some-secret")
    assert key == development_key("some-secret")
    assert key != development_key("another-secret")
    assert SecretBox([key]).decrypt(SecretBox([key]).encrypt("x")) == "x"


def test_credentials_are_ciphertext_in_the_database(db):
    channel = _connect(access_token=TOKEN)

    raw = _raw_credentials_column(channel.pk)
    assert raw
    assert TOKEN not in raw
    assert "access_token" not in raw
    assert Channel.objects.get(pk=channel.pk).credentials == {"access_token": TOKEN}


def test_no_credentials_store_nothing(db):
    channel = _connect()
    assert _raw_credentials_column(channel.pk) == ""
    assert channel.credentials == {}


def test_debug_without_keys_uses_a_key_derived_from_the_secret_key(settings):
    settings.DEBUG = True
    settings.SOCIALDESK_ENCRYPTION_KEYS = []
    token = credentials_box().encrypt(TOKEN)
    assert SecretBox([development_key(settings.SECRET_KEY)]).decrypt(token) == TOKEN


def test_a_bad_configured_key_fails_clearly(settings, db):
    settings.SOCIALDESK_ENCRYPTION_KEYS = ["definitely-not-a-fernet-key"]
    with pytest.raises(InvalidKeyError, match="key number 1 is not a valid Fernet key"):
        _connect(access_token=TOKEN)


def test_key_rotation_and_reencrypt_command(settings, db):
    settings.SOCIALDESK_ENCRYPTION_KEYS = [OLD_KEY]
    channel = _connect(access_token=TOKEN)
    before = _raw_credentials_column(channel.pk)

    # A new key goes first; the old one still reads what it wrote.
    settings.SOCIALDESK_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Channel.objects.get(pk=channel.pk).credentials == {"access_token": TOKEN}
    out = io.StringIO()
    call_command("reencrypt_credentials", stdout=out)
    assert "1 channel(s)" in out.getvalue()
    after = _raw_credentials_column(channel.pk)
    assert after != before

    # Now the old key can go.
    settings.SOCIALDESK_ENCRYPTION_KEYS = [NEW_KEY]
    assert Channel.objects.get(pk=channel.pk).credentials == {"access_token": TOKEN}
    settings.SOCIALDESK_ENCRYPTION_KEYS = [OLD_KEY]
    with pytest.raises(UndecryptableError):
        Channel.objects.get(pk=channel.pk).credentials  # noqa: B018


def test_reencrypt_command_names_channels_it_cannot_decrypt_and_rotates_the_rest(settings, db):
    settings.SOCIALDESK_ENCRYPTION_KEYS = [OLD_KEY]
    lost = _connect(access_token=TOKEN)
    settings.SOCIALDESK_ENCRYPTION_KEYS = [NEW_KEY]
    kept = channel_connect(
        network=Network.SANDBOX,
        account_id="acc-2",
        display_name="Formación",
        credentials={"access_token": "t2"},
    )
    before = _raw_credentials_column(kept.pk)
    settings.SOCIALDESK_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), NEW_KEY]

    with pytest.raises(CommandError, match=rf"1 channel\(s\) could not be decrypted.*id {lost.pk}"):
        call_command("reencrypt_credentials", stdout=io.StringIO())
    assert _raw_credentials_column(kept.pk) != before
    assert Channel.objects.get(pk=kept.pk).credentials == {"access_token": "t2"}
