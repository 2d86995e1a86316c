"""Build test data through the services, the way the desk itself does."""

from __future__ import annotations

import itertools
from typing import Any

from expediter.mail.models import Mailbox
from expediter.staff.models import User
from expediter.staff.services import user_create
from expediter.tickets.models import Ticket
from expediter.tickets.services import ticket_create

_counter = itertools.count(1)


def make_user(role: str, **kwargs: Any) -> User:
    n = next(_counter)
    kwargs.setdefault("email", f"{role}{n}@example.org")
    kwargs.setdefault("name", f"{role.title()} {n}")
    kwargs.setdefault("password", "correct horse battery")
    return user_create(role=role, **kwargs)


def make_requester(**kwargs: Any) -> User:
    return make_user("requester", **kwargs)


def make_agent(team: str | None = "Service Desk", **kwargs: Any) -> User:
    if team is not None:
        kwargs.setdefault("teams", [team])
    return make_user("agent", **kwargs)


def make_lead(team: str | None = "Service Desk", **kwargs: Any) -> User:
    if team is not None:
        kwargs.setdefault("teams", [team])
    return make_user("lead", **kwargs)


def make_admin(**kwargs: Any) -> User:
    return make_user("admin", **kwargs)


def make_ticket(requester: User | None = None, **kwargs: Any) -> Ticket:
    requester = requester or make_requester()
    kwargs.setdefault("subject", "Printer on floor 2 is jammed")
    kwargs.setdefault("description", "It shows error E13 and will not print.")
    return ticket_create(requester=requester, actor=requester, **kwargs)


def mailbox_admin_form(box: Mailbox, **changes: str) -> dict[str, str]:
    """The admin's mailbox form as a browser posts it: stored secrets left empty (kept)."""
    values = {
        "name": box.name, "host": box.host, "port": str(box.port), "security": box.security,
        "tls_ca_certificates": box.tls_ca_certificates, "username": box.username,
        "auth": box.auth, "secret": "", "folder": box.folder, "after": box.after,
        "move_to": box.move_to, "poll_every_seconds": str(box.poll_every_seconds),
        "is_active": "on" if box.is_active else "", "oauth_token_url": box.oauth_token_url,
        "oauth_client_id": box.oauth_client_id, "oauth_client_secret": "",
        "oauth_refresh_token": "", "oauth_scope": box.oauth_scope, "oauth_expires_at_0": "",
        "oauth_expires_at_1": "",
    }  # fmt: skip
    return values | changes
