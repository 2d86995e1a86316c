"""One-time sign-in links mailed to requesters who first wrote by email.

A link is a random token; only its SHA-256 is stored, with an expiry and the
moment it was used. Redeeming it is one conditional UPDATE, so a link opens
one session at most, even when two clicks race. Links only sign in
requesters: a mailed link never opens a staff account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from expediter.core import clock
from expediter.core.errors import NotFound
from expediter.core.rows import insert
from expediter.mail.models import MagicLink
from expediter.staff.models import Role, User
from expediter.tickets.models import Ticket

LIFETIME = dt.timedelta(days=7)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def magic_link_url(token: str) -> str:
    try:
        path = reverse("web:magic_login", args=[token])
    except NoReverseMatch:
        path = f"/magic/{token}"
    return settings.BASE_URL + path


def magic_link_create(*, user: User, ticket: Ticket | None = None) -> str:
    """A new sign-in link for ``user`` (a requester), as an absolute URL."""
    if user.role != Role.REQUESTER:
        raise ValueError("sign-in links are for requesters only")
    token = secrets.token_urlsafe(32)
    now = clock.now()
    insert(
        MagicLink(
            user=user,
            ticket=ticket,
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    return magic_link_url(token)


def _usable(token: str) -> MagicLink:
    link = (
        MagicLink.objects.select_related("user", "ticket")
        .filter(token_hash=_digest(token or ""), used_at__isnull=True, expires_at__gt=clock.now())
        .first()
    )
    if link is None or not link.user.is_active or link.user.role != Role.REQUESTER:
        raise NotFound("this sign-in link has expired or was already used")
    return link


def magic_link_peek(*, token: str) -> MagicLink:
    """The link behind ``token`` if it may still be used, without using it.

    Mail scanners open links before people do; the page asks for a click,
    and only that click uses the link.
    """
    return _usable(token)


def magic_link_redeem(*, token: str) -> MagicLink:
    """Use the link once; raises ``NotFound`` when it is unknown, used or expired."""
    link = _usable(token)
    used = MagicLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=clock.now())
    if not used:
        raise NotFound("this sign-in link has expired or was already used")
    link.used_at = clock.now()
    return link


def magic_links_purge() -> int:
    """Forget links that can no longer be used (expired a day ago or more)."""
    cutoff = clock.now() - dt.timedelta(days=1)
    deleted, _ = MagicLink.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
