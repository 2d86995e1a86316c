"""Configuration from the environment, with a ``.env`` file as a fallback.

Real environment variables win over ``.env`` so a deployment can override a
checked-in file without editing it.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path


def load_dotenv(path: Path) -> None:
    """Put ``KEY=VALUE`` lines of ``path`` into ``os.environ`` unless already set."""
    if not path.is_file():
        return
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        os.environ.setdefault(key, value)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def secret_key(data_dir: Path) -> str:
    """The configured key, or one generated once into the data dir and reused."""
    configured = os.environ.get("EXPEDITER_SECRET_KEY")
    if configured:
        return configured
    return _generated_once(data_dir / "secret_key", lambda: secrets.token_urlsafe(50))


def secrets_keys(data_dir: Path) -> list[str]:
    """The Fernet keys that encrypt stored secrets, the one that encrypts first.

    ``EXPEDITER_SECRETS_KEY`` (comma-separated) wins; otherwise one key is
    generated once into ``<data dir>/secrets_key``, which may later list
    several keys the same way to rotate them. Stdlib only, like the rest of
    this module: a Fernet key is 32 random bytes in URL-safe base64.
    """
    configured = os.environ.get("EXPEDITER_SECRETS_KEY", "")
    if not configured.strip():
        configured = _generated_once(
            data_dir / "secrets_key",
            lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"),
        )
    return [key for key in re.split(r"[,\s]+", configured) if key]


def _generated_once(key_file: Path, generate: Callable[[], str]) -> str:
    """The file's content, or a new value written to it if it does not exist yet.

    The value is written to a private temporary file first and then linked
    into place, which fails if another process got there first: the server
    and the worker often start together, and two different keys would make
    whatever one of them encrypted unreadable to the other. The file is
    never readable by others, not even for a moment.
    """
    if key_file.is_file():
        return key_file.read_text(encoding="utf-8").strip()
    data_dir = key_file.parent
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor, draft = tempfile.mkstemp(dir=data_dir, prefix=f".{key_file.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:  # mkstemp: mode 0600
            out.write(generate())
        os.link(draft, key_file)
    except FileExistsError:
        pass  # another process wrote it first: use theirs
    finally:
        os.unlink(draft)
    return key_file.read_text(encoding="utf-8").strip()
