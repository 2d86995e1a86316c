"""Build test data through the services, the way the desk itself does."""

from __future__ import annotations

import itertools
from typing import Any

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
