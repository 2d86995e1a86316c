"""Model fields with no domain knowledge: ``EncryptedTextField`` for stored secrets.

Reading the attribute gives the plain value; the database only ever holds
Fernet tokens (``core.secrets``). Values are decrypted when rows are loaded,
so a value that no configured key decrypts is known at once, yet it raises
only where it is read, naming the row and saying what to do: the rest of
the row (a mailbox's host, its last error) stays usable, and saving the row
keeps the unreadable token as it was instead of destroying it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import models
from django.db.models.functions import Cast
from django.db.models.query_utils import DeferredAttribute
from django.utils import translation

from expediter.core import secrets


@dataclass(frozen=True)
class Sealed:
    """A stored token that no configured key decrypts: kept as it is, an error when read."""

    token: str

    def __repr__(self) -> str:
        return "Sealed(<unreadable>)"


class _EncryptedAttribute(DeferredAttribute):
    """A data descriptor, so every read of the attribute comes through ``__get__``."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            raise secrets.unreadable(_described(instance, self.field))
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


def _described(instance: models.Model, field: models.Field) -> str:  # type: ignore[type-arg]
    """E.g. ``the password or access token of mailbox “support (desk@imap.corp)”``.

    In English whoever is signed in: the sentence is stored (a mailbox's last error).
    """
    with translation.override(None):
        return f"the {field.verbose_name} of {instance._meta.verbose_name} “{instance}”"


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text encrypted at rest; an empty value stays empty (so "not set" is visible and queryable).

    The column is ``text`` on every database: tokens are longer than what they
    encrypt. Equality lookups cannot match a non-empty value (each encryption
    differs), which is fine for secrets.
    """

    descriptor_class = _EncryptedAttribute

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if not value:
            return value
        plain = secrets.decrypt(value)
        return Sealed(value) if plain is None else plain

    def to_python(self, value: Any) -> Any:
        if isinstance(value, Sealed):
            return value
        return super().to_python(value)

    def get_prep_value(self, value: Any) -> Any:
        """Plain values are encrypted with the first key; an unreadable token is kept as is."""
        if isinstance(value, Sealed):
            return value.token
        value = super().get_prep_value(value)
        if not value:
            return value
        return secrets.encrypt(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        """What was loaded, without decrypting again (or raising for an unreadable value)."""
        if self.attname in model_instance.__dict__:
            return model_instance.__dict__[self.attname]
        return super().pre_save(model_instance, add)

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        """A password input that is never filled in: a form must not show a secret back."""
        kwargs.setdefault("widget", forms.PasswordInput(render_value=False))
        return super().formfield(
            form_class=form_class, choices_form_class=choices_form_class, **kwargs
        )


def secret_is_stored(instance: models.Model, name: str) -> bool:
    """Whether the row holds a value for the encrypted field ``name``, without decrypting it."""
    field = instance._meta.get_field(name)
    if not isinstance(field, EncryptedTextField):
        raise TypeError(f"{name} is not an encrypted field")
    attname = field.attname
    if attname in instance.__dict__:
        return bool(instance.__dict__[attname])
    rows = type(instance)._default_manager.filter(pk=instance.pk)
    return rows.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True}).exists()


def encrypt_stored_values(model: type[models.Model], field_names: Sequence[str]) -> int:
    """Encrypt the values stored in clear (a data migration's forward step); rows changed.

    Values that are already tokens under the configured keys are left alone,
    so running it twice changes nothing.
    """
    changed = 0
    for pk, stored in _stored_values(model, field_names):
        updates = {
            name: _raw(secrets.encrypt(value))
            for name, value in stored.items()
            if value and secrets.decrypt(value) is None
        }
        changed += _write(model, pk, updates)
    return changed


def decrypt_stored_values(model: type[models.Model], field_names: Sequence[str]) -> int:
    """Store the values in clear again (the reverse step); rows changed.

    A token no configured key decrypts stops the migration: written back as
    it is, it would later be taken for the password itself.
    """
    changed = 0
    for pk, stored in _stored_values(model, field_names):
        updates = {}
        for name, value in stored.items():
            if not value:
                continue
            plain = secrets.decrypt(value)
            if plain is None:
                what = f"the {name} of {model._meta.label} {pk}"
                raise secrets.unreadable(what)
            updates[name] = _raw(plain)
        changed += _write(model, pk, updates)
    return changed


def _stored_values(
    model: type[models.Model], field_names: Sequence[str]
) -> list[tuple[Any, dict[str, str]]]:
    """Each row's columns as stored: cast to plain text, so the field does not decrypt them."""
    columns = {
        f"stored_{name}": Cast(name, output_field=models.TextField()) for name in field_names
    }
    rows = model._default_manager.annotate(**columns).values_list("pk", *columns).order_by("pk")
    return [(row[0], dict(zip(field_names, row[1:], strict=True))) for row in rows]


def _raw(text: str) -> models.Value:
    """Written as it is: an expression does not go through the field's encryption."""
    return models.Value(text, output_field=models.TextField())


def _write(model: type[models.Model], pk: Any, updates: dict[str, models.Value]) -> int:
    if not updates:
        return 0
    model._default_manager.filter(pk=pk).update(**updates)
    return 1
