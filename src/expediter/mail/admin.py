"""Configuration for administrators: the IMAP mailboxes the worker polls.

Access follows the desk's roles (``DeskAdminAccess``), as in the other apps.

Inbound and outbound mail are shown on the mail pages (with release, delete
and retry through the services), not edited here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from expediter.core.errors import InvalidInput
from expediter.mail.models import FailingAddress, Mailbox
from expediter.mail.services.mailboxes import check_token_url
from expediter.staff.admin import DeskAdminAccess

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

OAUTH_FIELDS = [
    "oauth_token_url", "oauth_client_id", "oauth_client_secret", "oauth_refresh_token",
    "oauth_scope", "oauth_expires_at",
]  # fmt: skip


def _write_only(label: StrOrPromise, help_text: StrOrPromise) -> forms.CharField:
    return forms.CharField(
        label=capfirst(label),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=help_text,
    )


class MailboxForm(forms.ModelForm):  # type: ignore[type-arg]
    """Secrets are write-only: never shown back, kept when left empty."""

    secret = _write_only(
        _("password or access token"),
        _("The password, or the OAuth2 access token for XOAUTH2. Leave empty to keep it."),
    )
    oauth_token_url = forms.URLField(
        label=capfirst(_("OAuth2 token URL")),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_(
            "Microsoft 365: https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token; "
            "Gmail: https://oauth2.googleapis.com/token."
        ),
    )
    oauth_client_secret = _write_only(
        _("OAuth2 client secret"),
        _("Empty for a public client. Leave empty to keep the stored one."),
    )
    oauth_refresh_token = _write_only(
        _("OAuth2 refresh token"),
        _(
            "Obtained once by signing in as the mailbox user; renewed access tokens and "
            "rotated refresh tokens are stored automatically. Leave empty to keep it."
        ),
    )

    class Meta:
        model = Mailbox
        fields = [
            "name", "host", "port", "security", "username", "auth", "secret", "folder",
            "after", "move_to", "poll_every_seconds", "is_active", *OAUTH_FIELDS,
        ]  # fmt: skip
        help_texts = {
            "oauth_scope": _(
                "Optional. Microsoft 365: "
                "https://outlook.office365.com/IMAP.AccessAsUser.All offline_access; "
                "Gmail: https://mail.google.com/"
            ),
            "oauth_expires_at": _(
                "When the current access token expires; empty refreshes it at the next poll."
            ),
        }

    def _kept(self, name: str) -> str:
        given = self.cleaned_data.get(name) or ""
        return given or (str(getattr(self.instance, name)) if self.instance.pk else "")

    def clean_secret(self) -> str:
        return self._kept("secret")

    def clean_oauth_client_secret(self) -> str:
        return self._kept("oauth_client_secret")

    def clean_oauth_refresh_token(self) -> str:
        return self._kept("oauth_refresh_token")

    def clean(self) -> dict[str, Any]:
        """A refresh token is only usable with the endpoint and client it was issued for."""
        cleaned: dict[str, Any] = super().clean() or {}
        if not cleaned.get("oauth_refresh_token"):
            return cleaned
        for name in ("oauth_token_url", "oauth_client_id"):
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, _("Needed to refresh the access token."))
        url = cleaned.get("oauth_token_url")
        if url:
            try:
                check_token_url(url)
            except InvalidInput:
                self.add_error(
                    "oauth_token_url",
                    _("The token URL must use https (plain http only on this machine)."),
                )
        return cleaned


@admin.register(Mailbox)
class MailboxAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    form = MailboxForm
    list_display = ["name", "host", "username", "folder", "after", "is_active", "last_polled_at"]
    readonly_fields = ["last_polled_at", "last_error"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        main = [name for name in MailboxForm.Meta.fields if name not in OAUTH_FIELDS]
        if obj is not None:
            main += self.readonly_fields
        oauth = {
            "fields": OAUTH_FIELDS,
            "description": _(
                "For OAuth2 authentication: the access token above is renewed with the "
                "refresh token before it expires. A refused refresh shows as the last error."
            ),
        }
        return [(None, {"fields": main}), (_("OAuth2"), oauth)]


@admin.register(FailingAddress)
class FailingAddressAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    """Deleting a row lets automatic mail go to that address again."""

    list_display = ["address", "bounces", "first_failed_at", "last_failed_at"]
    search_fields = ["address"]
    readonly_fields = ["address", "bounces", "first_failed_at", "last_failed_at", "last_inbound"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
