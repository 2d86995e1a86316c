"""Configuration for administrators: the IMAP mailboxes the worker polls.

Inbound and outbound mail are shown on the mail pages (with release, delete
and retry through the services), not edited here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from expediter.mail.models import FailingAddress, Mailbox


class MailboxForm(forms.ModelForm):  # type: ignore[type-arg]
    """The secret is write-only: never shown back, kept when left empty."""

    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The password, or the OAuth2 access token for XOAUTH2. Leave empty to keep it.",
    )

    class Meta:
        model = Mailbox
        fields = [
            "name", "host", "port", "security", "username", "auth", "secret", "folder",
            "after", "move_to", "poll_every_seconds", "is_active",
        ]  # fmt: skip

    def clean_secret(self) -> str:
        given = self.cleaned_data.get("secret") or ""
        return given or (self.instance.secret if self.instance.pk else "")


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = MailboxForm
    list_display = ["name", "host", "username", "folder", "after", "is_active", "last_polled_at"]
    readonly_fields = ["last_polled_at", "last_error"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(MailboxForm.Meta.fields)
        return [*fields, *self.readonly_fields] if obj is not None else fields


@admin.register(FailingAddress)
class FailingAddressAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Deleting a row lets automatic mail go to that address again."""

    list_display = ["address", "bounces", "first_failed_at", "last_failed_at"]
    search_fields = ["address"]
    readonly_fields = ["address", "bounces", "first_failed_at", "last_failed_at", "last_inbound"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
