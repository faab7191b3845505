"""The encryption keys for network credentials, from settings.

``SOCIALDESK_ENCRYPTION_KEYS`` lists Fernet keys, newest first. With DEBUG on and no keys (a
laptop running ``make run``), one key is derived from SECRET_KEY so the demo works out of the box
and stays readable across restarts; without DEBUG the settings module refuses to start without keys.
"""

from functools import lru_cache

from django.conf import settings

from lib.secretbox import SecretBox, development_key


def credentials_box() -> SecretBox:
    keys = tuple(settings.SOCIALDESK_ENCRYPTION_KEYS)
    if not keys and settings.DEBUG:
        keys = (development_key(settings.SECRET_KEY),)
    return _box(keys)


@lru_cache(maxsize=4)
def _box(keys: tuple[str, ...]) -> SecretBox:
    # Keyed by the keys themselves, so a settings change (a test, a rotation) gets a new box.
    return SecretBox(keys)
