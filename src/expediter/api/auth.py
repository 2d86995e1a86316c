"""Bearer tokens for the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from expediter.core.errors import NotPermitted
from expediter.staff.models import Role, User
from expediter.staff.services import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(secret=token)
        if user is not None:
            request.user = user
        return user


def request_user(request: HttpRequest) -> User:
    """The person behind the bearer token (operations run only once it is valid)."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


def require_admin(request: HttpRequest, *, what: str) -> User:
    """The caller, if an administrator; otherwise a 403 saying what is reserved.

    ``what`` is marked with ``gettext_noop`` by the caller and translated on refusal.
    """
    user = request_user(request)
    if user.role != Role.ADMIN:
        raise NotPermitted(_("only administrators %(what)s") % {"what": _(what)})
    return user
