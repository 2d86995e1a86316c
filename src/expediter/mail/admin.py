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
from expediter.core.fields import secret_is_stored
from expediter.mail.models import MAILBOX_SECRET_FIELDS, FailingAddress, Mailbox
from expediter.mail.services.mailboxes import check_ca_certificates, check_token_url
from expediter.staff.admin import DeskAdminAccess

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

OAUTH_FIELDS = [
    "oauth_token_url", "oauth_client_id", "oauth_client_secret", "oauth_refresh_token",
    "oauth_scope", "oauth_expires_at",
]  # fmt: skip


def _write_only(label: StrOrPromise, help_text: StrOrPromise, max_length: int) -> forms.CharField:
    return forms.CharField(
        label=capfirst(label),
        required=False,
        max_length=max_length,
        widget=forms.PasswordInput(render_value=False),
        help_text=help_text,
    )


class MailboxForm(forms.ModelForm):  # type: ignore[type-arg]
    """Secrets are write-only: never shown back, kept when left empty.

    They are not model fields of this form (not in ``Meta.fields``, and
    excluded by the admin, which lists them in its fieldsets), so the stored
    values are neither decrypted to fill the form nor written back by it: a
    mailbox whose secret the configured keys cannot decrypt still opens here,
    and entering the secret again repairs it.
    """

    secret = _write_only(
        _("password or access token"),
        _("The password, or the OAuth2 access token for XOAUTH2. Leave empty to keep it."),
        max_length=4000,
    )
    tls_ca_certificates = forms.CharField(
        label=capfirst(_("trusted CA certificates")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 64}),
        help_text=_(
            "Only for a server whose certificate comes from an internal certificate "
            "authority: that authority's certificate (PEM, -----BEGIN CERTIFICATE-----). "
            "The server is then trusted only through it. Empty: the system's authorities."
        ),
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
        max_length=500,
    )
    oauth_refresh_token = _write_only(
        _("OAuth2 refresh token"),
        _(
            "Obtained once by signing in as the mailbox user; renewed access tokens and "
            "rotated refresh tokens are stored automatically. Leave empty to keep it."
        ),
        max_length=4000,
    )

    class Meta:
        model = Mailbox
        fields = [
            "name", "host", "port", "security", "tls_ca_certificates", "username", "auth",
            "folder", "after", "move_to", "poll_every_seconds", "is_active",
            *(name for name in OAUTH_FIELDS if name not in MAILBOX_SECRET_FIELDS),
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

    def _given_or_stored(self, name: str) -> bool:
        return bool(self.cleaned_data.get(name)) or (
            self.instance.pk is not None and secret_is_stored(self.instance, name)
        )

    def clean_tls_ca_certificates(self) -> str:
        pem: str = self.cleaned_data.get("tls_ca_certificates") or ""
        try:
            check_ca_certificates(pem)
        except InvalidInput:
            raise forms.ValidationError(
                _("These are not PEM certificates (-----BEGIN CERTIFICATE----- ...).")
            ) from None
        return pem.strip()

    def clean(self) -> dict[str, Any]:
        """A refresh token is only usable with the endpoint and client it was issued for."""
        cleaned: dict[str, Any] = super().clean() or {}
        if not self._given_or_stored("oauth_refresh_token"):
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

    def save(self, commit: bool = True) -> Mailbox:
        """Only the secrets typed in replace the stored ones."""
        for name in MAILBOX_SECRET_FIELDS:
            given = self.cleaned_data.get(name)
            if given:
                setattr(self.instance, name, given)
        mailbox: Mailbox = super().save(commit=commit)
        return mailbox


@admin.register(Mailbox)
class MailboxAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    form = MailboxForm
    exclude = MAILBOX_SECRET_FIELDS  # the form's own write-only fields stand in for them
    list_display = ["name", "host", "username", "folder", "after", "is_active", "last_polled_at"]
    readonly_fields = ["last_polled_at", "last_error"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        main = [name for name in MailboxForm.Meta.fields if name not in OAUTH_FIELDS]
        main.insert(main.index("auth") + 1, "secret")
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
