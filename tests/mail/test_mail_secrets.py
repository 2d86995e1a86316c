"""Mailbox secrets are encrypted at rest: the database holds Fernet tokens, never the secrets.

The password (or access token), the OAuth2 client secret and the refresh
token are read back in clear by the code that needs them; a key rotation
keeps them readable; a lost key is reported on the mailbox, with what to do.
"""

from __future__ import annotations

import importlib
import io
import json
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test import Client
from django.urls import reverse
from tests.factories import mailbox_admin_form

from expediter.core.secrets import UnreadableSecret
from expediter.mail.models import Mailbox
from expediter.mail.transports import imap

pytestmark = pytest.mark.django_db

KEY_1 = Fernet.generate_key().decode()
KEY_2 = Fernet.generate_key().decode()
SECRETS = {
    "secret": "imap-pässword",
    "oauth_client_secret": "client-s3cret",
    "oauth_refresh_token": "0.AAAA" + "r" * 3000,  # refresh tokens run to kilobytes
}
FIELDS = list(SECRETS)
migration = importlib.import_module(
    "expediter.mail.migrations.0004_mailbox_secrets_encrypted_tls_ca"
)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``key("k1,k2")`` sets EXPEDITER_SECRETS_KEY."""

    def use(keys: str) -> None:
        monkeypatch.setenv("EXPEDITER_SECRETS_KEY", keys)

    use(KEY_1)
    return use


def make_mailbox(**fields: Any) -> Mailbox:
    values: dict[str, Any] = {
        "name": "support",
        "host": "imap.corp.example",
        "username": "desk@corp.example",
        "oauth_token_url": "https://login.example.com/token",
        "oauth_client_id": "desk-client",
        **SECRETS,
    }
    return Mailbox.objects.create(**(values | fields))


def stored(box: Mailbox) -> dict[str, str]:
    """The columns as the database holds them."""
    table = connection.ops.quote_name(Mailbox._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [box.pk])
        return dict(zip(FIELDS, cursor.fetchone(), strict=True))


def store_in_clear(box: Mailbox, **values: str) -> None:
    """As the rows were before the migration (expressions skip the field's encryption)."""
    Mailbox.objects.filter(pk=box.pk).update(
        **{
            name: models.Value(value, output_field=models.TextField())
            for name, value in values.items()
        }
    )


def test_the_database_holds_tokens_and_the_code_reads_the_secrets(key: Any) -> None:
    box = make_mailbox()
    for name, secret in SECRETS.items():
        column = stored(box)[name]
        assert secret not in column and secret[:8] not in column
        assert Fernet(KEY_1).decrypt(column.encode()).decode() == secret
    again = Mailbox.objects.get(pk=box.pk)
    assert {name: getattr(again, name) for name in FIELDS} == SECRETS
    assert Mailbox.objects.values_list("secret", flat=True).get() == SECRETS["secret"]


def test_an_empty_secret_stays_empty(key: Any) -> None:
    box = make_mailbox(secret="", oauth_client_secret="", oauth_refresh_token="")
    assert stored(box) == dict.fromkeys(FIELDS, "")
    assert Mailbox.objects.get(pk=box.pk).secret == ""
    assert Mailbox.objects.filter(secret="").count() == 1


def test_a_changed_secret_is_stored_encrypted(key: Any) -> None:
    box = make_mailbox()
    box.secret = "new-token"
    box.save(update_fields=["secret"])
    assert "new-token" not in stored(box)["secret"]
    assert Mailbox.objects.get(pk=box.pk).secret == "new-token"


def test_after_a_key_rotation_the_old_key_still_reads_and_saving_re_encrypts(key: Any) -> None:
    box = make_mailbox()
    key(f"{KEY_2},{KEY_1}")
    loaded = Mailbox.objects.get(pk=box.pk)
    assert loaded.secret == SECRETS["secret"]
    loaded.save()
    for name, secret in SECRETS.items():
        assert Fernet(KEY_2).decrypt(stored(box)[name].encode()).decode() == secret
    key(KEY_2)  # the old key can go once every row was saved again
    assert Mailbox.objects.get(pk=box.pk).oauth_refresh_token == SECRETS["oauth_refresh_token"]


def test_a_secret_no_key_decrypts_names_the_mailbox_and_what_to_do(key: Any) -> None:
    box = make_mailbox()
    key(KEY_2)
    loaded = Mailbox.objects.get(pk=box.pk)
    assert loaded.host == "imap.corp.example"  # the rest of the row is readable
    with pytest.raises(UnreadableSecret) as unreadable:
        loaded.secret  # noqa: B018
    assert str(unreadable.value) == (
        "the password or access token of mailbox “support (desk@corp.example@imap.corp.example)” "
        "cannot be decrypted with the configured keys (EXPEDITER_SECRETS_KEY): put back the key "
        "it was encrypted with (listed after the new one when rotating), or enter the value "
        "again in the administration"
    )
    with pytest.raises(UnreadableSecret, match="the OAuth2 refresh token of mailbox"):
        loaded.oauth_refresh_token  # noqa: B018


def test_saving_a_mailbox_with_an_unreadable_secret_keeps_the_token(key: Any) -> None:
    box = make_mailbox()
    tokens = stored(box)
    key(KEY_2)
    loaded = Mailbox.objects.get(pk=box.pk)
    loaded.folder = "Support"
    loaded.save()
    assert stored(box) == tokens
    key(f"{KEY_2},{KEY_1}")  # the old key found again
    assert Mailbox.objects.get(pk=box.pk).secret == SECRETS["secret"]


def test_polling_with_an_unreadable_secret_is_recorded_without_connecting(
    key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_mailbox()
    connections: list[str] = []
    monkeypatch.setattr(imap, "IMAPClient", lambda host, **options: connections.append(host))
    key(KEY_2)
    assert imap.poll_due_mailboxes() == 1
    box = Mailbox.objects.get()
    assert box.last_error.startswith(
        "UnreadableSecret: the password or access token of mailbox “support "
    )
    assert "EXPEDITER_SECRETS_KEY" in box.last_error and connections == []


def test_an_oauth2_mailbox_with_an_unreadable_token_is_recorded_too(key: Any) -> None:
    box = make_mailbox(auth="oauth2")
    key(KEY_2)
    with pytest.raises(UnreadableSecret):
        imap.mailbox_poll(Mailbox.objects.get(pk=box.pk))
    assert Mailbox.objects.get(pk=box.pk).last_error.startswith(
        "UnreadableSecret: the OAuth2 refresh token of mailbox “support "
    )


def rekey(out: io.StringIO | None = None) -> dict[str, Any]:
    out = out or io.StringIO()
    call_command("mail", "rekey", stdout=out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def test_rekey_encrypts_every_mailbox_again_with_the_new_key(key: Any) -> None:
    boxes = [make_mailbox(), make_mailbox(name="sales", oauth_refresh_token="")]
    key(f"{KEY_2},{KEY_1}")
    assert rekey() == {"reencrypted": 2, "unreadable": []}
    key(KEY_2)
    for box in boxes:
        loaded = Mailbox.objects.get(pk=box.pk)
        assert loaded.secret == SECRETS["secret"]
        assert loaded.oauth_client_secret == SECRETS["oauth_client_secret"]
    assert stored(boxes[1])["oauth_refresh_token"] == ""


def test_rekey_names_the_mailboxes_it_cannot_decrypt_and_fails(key: Any) -> None:
    lost = make_mailbox(name="lost")
    tokens = stored(lost)
    key(KEY_2)
    make_mailbox(name="fine")
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"the secrets of lost cannot be decrypted") as failed:
        rekey(out)
    assert "EXPEDITER_SECRETS_KEY" in str(failed.value)
    assert json.loads(out.getvalue()) == {"reencrypted": 1, "unreadable": ["lost"]}
    assert stored(lost) == tokens


# --- the migration -------------------------------------------------------------------


def test_the_migration_encrypts_secrets_stored_in_clear(key: Any) -> None:
    box = make_mailbox()
    empty = make_mailbox(name="empty", secret="", oauth_client_secret="", oauth_refresh_token="")
    store_in_clear(box, **SECRETS)
    assert stored(box) == SECRETS
    migration.encrypt_secrets(apps, None)
    tokens = stored(box)
    for name, secret in SECRETS.items():
        assert Fernet(KEY_1).decrypt(tokens[name].encode()).decode() == secret
    assert stored(empty) == dict.fromkeys(FIELDS, "")
    migration.encrypt_secrets(apps, None)  # run again: nothing is encrypted twice
    assert stored(box) == tokens
    assert Mailbox.objects.get(pk=box.pk).secret == SECRETS["secret"]


def test_the_reverse_migration_stores_them_in_clear_again(key: Any) -> None:
    box = make_mailbox()
    make_mailbox(name="empty", secret="", oauth_client_secret="", oauth_refresh_token="")
    migration.decrypt_secrets(apps, None)
    assert stored(box) == SECRETS


def test_the_reverse_migration_stops_at_a_token_it_cannot_decrypt(key: Any) -> None:
    box = make_mailbox()
    tokens = stored(box)
    key(KEY_2)
    with pytest.raises(UnreadableSecret, match=f"the secret of mail.Mailbox {box.pk} cannot"):
        migration.decrypt_secrets(apps, None)
    assert stored(box) == tokens


# --- the administration --------------------------------------------------------------


def test_the_admin_shows_neither_the_secrets_nor_their_tokens(
    key: Any, admin_client: Client
) -> None:
    box = make_mailbox()
    page = admin_client.get(reverse("admin:mail_mailbox_change", args=[box.pk])).content.decode()
    for name, secret in SECRETS.items():
        assert f'type="password" name="{name}"' in page
        assert secret[:12] not in page and stored(box)[name][:12] not in page


def test_a_mailbox_with_an_unreadable_secret_opens_in_the_admin_and_is_repaired_there(
    key: Any, admin_client: Client
) -> None:
    box = make_mailbox()
    key(KEY_2)
    url = reverse("admin:mail_mailbox_change", args=[box.pk])
    assert admin_client.get(url).status_code == 200
    # the refresh token is kept
    kept = admin_client.post(url, mailbox_admin_form(box, folder="Support"))
    assert kept.status_code == 302
    assert Mailbox.objects.get(pk=box.pk).folder == "Support"
    repaired = admin_client.post(
        url,
        mailbox_admin_form(
            box,
            folder="Support",
            secret="typed-again",
            oauth_client_secret="c2",
            oauth_refresh_token="rt-2",
        ),
    )
    assert repaired.status_code == 302
    box = Mailbox.objects.get(pk=box.pk)
    assert (box.folder, box.secret, box.oauth_client_secret, box.oauth_refresh_token) == (
        "Support",
        "typed-again",
        "c2",
        "rt-2",
    )
    assert Fernet(KEY_2).decrypt(stored(box)["secret"].encode()) == b"typed-again"


def test_a_new_mailbox_gets_its_secret_from_the_admin_form(key: Any, admin_client: Client) -> None:
    form = mailbox_admin_form(
        Mailbox(name="new", host="imap.corp.example", username="desk"), secret="first-password"
    )
    assert admin_client.post(reverse("admin:mail_mailbox_add"), form).status_code == 302
    box = Mailbox.objects.get(name="new")
    assert box.secret == "first-password" and "first-password" not in stored(box)["secret"]


def test_the_admin_refuses_ca_certificates_that_do_not_load(key: Any, admin_client: Client) -> None:
    box = make_mailbox()
    url = reverse("admin:mail_mailbox_change", args=[box.pk])
    pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
    refused = admin_client.post(url, mailbox_admin_form(box, tls_ca_certificates=pem))
    assert (
        refused.status_code == 200 and "These are not PEM certificates" in refused.content.decode()
    )
    assert Mailbox.objects.get(pk=box.pk).tls_ca_certificates == ""
