"""Encrypt small secrets (network tokens) with Fernet keys that can be rotated. Imports no Django.

A ``SecretBox`` holds a list of keys, newest first: it always encrypts with the newest and
decrypts with any of them, so a new key can be put in front while the old ones keep working;
``rotate`` re-encrypts a token with the newest key, after which the old key can be dropped.
"""

import base64
import hashlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretBoxError(Exception):
    """Base class: something is wrong with the keys or with a stored secret."""


class InvalidKeyError(SecretBoxError):
    """A configured key is not a Fernet key, or no key is configured."""


class UndecryptableError(SecretBoxError):
    """A stored secret cannot be decrypted with any configured key (a key was dropped too early,
    or the stored value was damaged)."""


class SecretBox:
    def __init__(self, keys: Sequence[str | bytes]):
        if not keys:
            raise InvalidKeyError("No encryption key is configured.")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError) as exc:
                # The key itself is never echoed: error messages end up in logs.
                raise InvalidKeyError(
                    f"Encryption key number {position} is not a valid Fernet key "
                    "(it must be 32 bytes in URL-safe base64, 44 characters)."
                ) from exc
        self._fernet = MultiFernet(fernets)
        self.key_count = len(fernets)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise UndecryptableError(self._undecryptable_message()) from exc

    def rotate(self, token: str) -> str:
        """The same secret, encrypted again with the newest key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise UndecryptableError(self._undecryptable_message()) from exc

    def _undecryptable_message(self) -> str:
        return (
            f"The stored secret cannot be decrypted with any of the {self.key_count} configured key(s): "
            "was a key removed before re-encrypting, or the stored value damaged?"
        )


def development_key(secret: str) -> str:
    """A stable Fernet key derived from a secret (Django's SECRET_KEY in development).

    Only for a development machine with no keys configured: the same SECRET_KEY always gives the
    same key, so tokens stored yesterday still decrypt today. Production sets real keys.
    """
    digest = hashlib.sha256(b"socialdesk development encryption key\x00" + secret.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")
