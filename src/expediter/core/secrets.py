"""Encryption of stored secrets (mailbox passwords, OAuth2 tokens) under keys that rotate.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a
``MultiFernet``: the first key encrypts and every listed key decrypts, so a
new key goes first and the old one stays after it until every value has been
saved again. The keys come from ``EXPEDITER_SECRETS_KEY`` or from the key
file generated in the data dir (``config.env.secrets_keys``). Whoever holds
the database alone (a dump, a backup, a PostgreSQL server run by others)
does not hold the secrets.

``cryptography`` is imported when a secret is first encrypted or read: most
processes (the web workers, the mail import) never touch one, and the
package would cost each of them about 10 MB of memory.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from expediter.config.env import secrets_keys
from expediter.core.errors import DomainError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet

KEY_VARIABLE = "EXPEDITER_SECRETS_KEY"
KEY_FILE_NAME = "secrets_key"
GENERATE_HINT = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class SecretsKeyInvalid(ImproperlyConfigured):
    """A configured key is not a Fernet key: nothing can be encrypted or read."""


class UnreadableSecret(DomainError):
    """A stored value that none of the configured keys decrypts (the key was lost or changed)."""

    status = 500
    title = "Stored secret unreadable"


def encrypt(plain: str) -> str:
    return _cipher().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str | None:
    """The plain value, or None when no configured key decrypts ``token``."""
    from cryptography.fernet import InvalidToken

    try:
        return _cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        return None


def unreadable(what: str) -> UnreadableSecret:
    """The error for ``what`` (e.g. "the password of mailbox x"), saying how to recover."""
    return UnreadableSecret(
        f"{what} cannot be decrypted with the configured keys ({key_source()}): "
        f"put back the key it was encrypted with (listed after the new one when rotating), "
        f"or enter the value again in the administration"
    )


def key_source() -> str:
    if os.environ.get(KEY_VARIABLE, "").strip():
        return KEY_VARIABLE
    return f"{KEY_VARIABLE} is not set, so the key file {_data_dir() / KEY_FILE_NAME}"


def _data_dir() -> Path:
    return Path(settings.DATA_DIR)


def _cipher() -> MultiFernet:
    return _cipher_for(os.environ.get(KEY_VARIABLE, ""), _data_dir())


@functools.lru_cache(maxsize=8)
def _cipher_for(configured: str, data_dir: Path) -> MultiFernet:
    """Keyed by the variable's value, so a changed variable (tests, rotation) takes effect.

    A key file edited while the process runs is read at the next start.
    """
    from cryptography.fernet import MultiFernet

    keys = secrets_keys(data_dir)
    if not keys:
        raise SecretsKeyInvalid(f"no key in {key_source()}; generate one with: {GENERATE_HINT}")
    return MultiFernet([_fernet(key, position) for position, key in enumerate(keys, start=1)])


def _fernet(key: str, position: int) -> Fernet:
    from cryptography.fernet import Fernet

    try:
        return Fernet(key)
    except ValueError as refused:
        raise SecretsKeyInvalid(
            f"key {position} in {key_source()} is not a Fernet key (32 bytes in URL-safe "
            f"base64); generate one with: {GENERATE_HINT}"
        ) from refused
