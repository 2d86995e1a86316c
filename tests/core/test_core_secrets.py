"""The cipher of stored secrets: where its keys come from, rotation, and the model field."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django import forms

from expediter.config import env
from expediter.core import secrets
from expediter.core.fields import EncryptedTextField, Sealed

KEY_1 = Fernet.generate_key().decode()
KEY_2 = Fernet.generate_key().decode()


@pytest.fixture
def data_dir(tmp_path: Path, settings: object, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No key configured, and an empty data dir of its own."""
    monkeypatch.delenv(secrets.KEY_VARIABLE, raising=False)
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    return tmp_path


# --- where the keys come from --------------------------------------------------------


def test_the_variable_lists_the_keys_first_one_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPEDITER_SECRETS_KEY", f" {KEY_2}, {KEY_1} ")
    assert env.secrets_keys(tmp_path) == [KEY_2, KEY_1]
    assert list(tmp_path.iterdir()) == []  # no key file when the variable is set


def test_without_the_variable_a_private_key_file_is_made_once_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXPEDITER_SECRETS_KEY", raising=False)
    data_dir = tmp_path / "var"
    first = env.secrets_keys(data_dir)
    key_file = data_dir / "secrets_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) == 1 and Fernet(first[0])  # a usable Fernet key
    assert env.secrets_keys(data_dir) == first
    assert [path.name for path in data_dir.iterdir()] == ["secrets_key"]  # no draft left


def test_the_key_file_may_list_several_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXPEDITER_SECRETS_KEY", raising=False)
    (tmp_path / "secrets_key").write_text(f"{KEY_2}\n{KEY_1}\n")
    assert env.secrets_keys(tmp_path) == [KEY_2, KEY_1]


def test_a_key_file_another_process_wrote_first_wins(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets_key"

    def generate_while_another_process_writes() -> str:
        key_file.write_text("theirs")
        return "mine"

    assert env._generated_once(key_file, generate_while_another_process_writes) == "theirs"
    assert key_file.read_text() == "theirs"
    assert [path.name for path in tmp_path.iterdir()] == ["secrets_key"]


def test_the_generated_secret_key_is_private_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXPEDITER_SECRET_KEY", raising=False)
    key = env.secret_key(tmp_path)
    assert len(key) > 50 and env.secret_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


# --- the cipher ----------------------------------------------------------------------


def test_round_trip_with_the_generated_key_file(data_dir: Path) -> None:
    token = secrets.encrypt("pässwörd 🔑")
    assert "pässwörd" not in token and token != secrets.encrypt("pässwörd 🔑")
    assert secrets.decrypt(token) == "pässwörd 🔑"
    assert Fernet((data_dir / "secrets_key").read_text().strip()).decrypt(token.encode())


def test_an_old_key_listed_second_still_decrypts_and_the_first_encrypts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXPEDITER_SECRETS_KEY", KEY_1)
    old = secrets.encrypt("hunter2")
    monkeypatch.setenv("EXPEDITER_SECRETS_KEY", f"{KEY_2},{KEY_1}")
    assert secrets.decrypt(old) == "hunter2"
    new = secrets.encrypt("hunter2")
    assert Fernet(KEY_2).decrypt(new.encode()) == b"hunter2"
    monkeypatch.setenv("EXPEDITER_SECRETS_KEY", KEY_2)
    assert secrets.decrypt(new) == "hunter2" and secrets.decrypt(old) is None


def test_a_value_no_key_decrypts_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPEDITER_SECRETS_KEY", KEY_1)
    assert secrets.decrypt(Fernet(KEY_2).encrypt(b"x").decode()) is None
    assert secrets.decrypt("stored in clear") is None
    assert secrets.decrypt("éé") is None


def test_a_malformed_key_is_refused_by_position(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPEDITER_SECRETS_KEY", f"{KEY_1},not-a-key")
    with pytest.raises(secrets.SecretsKeyInvalid, match="key 2 in EXPEDITER_SECRETS_KEY") as bad:
        secrets.encrypt("x")
    assert "Fernet.generate_key()" in str(bad.value)


def test_an_empty_key_file_is_refused(data_dir: Path) -> None:
    (data_dir / "secrets_key").write_text("\n")
    with pytest.raises(secrets.SecretsKeyInvalid, match=r"no key in .*secrets_key"):
        secrets.encrypt("x")


def test_the_unreadable_error_says_which_keys_and_what_to_do(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_file = str(secrets.unreadable("the password of mailbox “x”"))
    assert from_file.startswith("the password of mailbox “x” cannot be decrypted")
    assert f"the key file {data_dir / 'secrets_key'}" in from_file
    assert "put back the key it was encrypted with" in from_file
    assert "enter the value again in the administration" in from_file
    monkeypatch.setenv("EXPEDITER_SECRETS_KEY", KEY_1)
    assert "(EXPEDITER_SECRETS_KEY)" in str(secrets.unreadable("it"))


# --- the field, without a database ---------------------------------------------------


def test_the_field_stores_tokens_and_reads_plain_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPEDITER_SECRETS_KEY", KEY_1)
    field = EncryptedTextField()
    token = field.get_prep_value("s3cret")
    assert Fernet(KEY_1).decrypt(token.encode()) == b"s3cret"
    assert field.from_db_value(token, None, None) == "s3cret"
    assert field.get_prep_value("") == "" and field.get_prep_value(None) is None
    assert field.from_db_value("", None, None) == ""


def test_an_unreadable_token_is_sealed_and_written_back_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXPEDITER_SECRETS_KEY", KEY_1)
    foreign = Fernet(KEY_2).encrypt(b"s3cret").decode()
    field = EncryptedTextField()
    sealed = field.from_db_value(foreign, None, None)
    assert (
        sealed == Sealed(foreign) and "s3cret" not in repr(sealed) and foreign not in repr(sealed)
    )
    assert field.get_prep_value(sealed) == foreign


def test_the_field_is_text_and_its_form_field_never_shows_the_value() -> None:
    field = EncryptedTextField()
    assert field.get_internal_type() == "TextField"
    form_field = field.formfield()
    assert isinstance(form_field, forms.CharField)
    assert isinstance(form_field.widget, forms.PasswordInput)
    assert form_field.widget.render_value is False


def test_a_web_process_loads_cryptography_only_once_a_secret_is_used(tmp_path: Path) -> None:
    """Every web worker would otherwise carry the package (about 10 MB) for nothing."""
    script = (
        "import sys, django; django.setup()\n"
        "from django.urls import get_resolver; get_resolver().url_patterns\n"
        "assert 'cryptography' not in sys.modules, 'loaded at start-up'\n"
        "from expediter.core import secrets\n"
        "assert secrets.decrypt(secrets.encrypt('pw')) == 'pw'\n"
        "assert 'cryptography' in sys.modules\n"
    )
    environment = os.environ | {
        "EXPEDITER_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "expediter.config.settings",
    }
    environment.pop("EXPEDITER_SECRETS_KEY", None)
    subprocess.run([sys.executable, "-c", script], env=environment, check=True, timeout=120)
