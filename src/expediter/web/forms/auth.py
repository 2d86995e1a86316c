"""Signing in and resetting a password."""

from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from expediter.staff.models import User


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class DeskPasswordResetForm(PasswordResetForm):
    """Django's reset form, also for people whose account began by email.

    Requesters created from an incoming message have no password yet; the
    reset link is how they choose one, and receiving it proves they own the
    address, which is all their account rests on.
    """

    def get_users(self, email: str) -> Iterator[User]:  # type: ignore[override]
        users = User.objects.with_email(email).filter(is_active=True)
        return (user for user in users if user.email.lower() == email.strip().lower())
