"""Agents' secret calendar links: handing one out, and revoking it by making a new one."""

from __future__ import annotations

import secrets

from expediter.appointments.calendars import feed_key_of
from expediter.appointments.models import CalendarFeed
from expediter.core import clock
from expediter.staff.models import User


def calendar_feed_key(*, agent: User) -> str:
    """The agent's feed key, made on first use."""
    feed, _created = CalendarFeed.objects.get_or_create(
        agent=agent, defaults={"nonce": secrets.token_urlsafe(32), "created_at": clock.now()}
    )
    return feed_key_of(agent_id=agent.pk, nonce=feed.nonce)


def calendar_feed_reset(*, agent: User) -> str:
    """A new key; every link handed out before stops working."""
    feed, _created = CalendarFeed.objects.update_or_create(
        agent=agent, defaults={"nonce": secrets.token_urlsafe(32), "created_at": clock.now()}
    )
    return feed_key_of(agent_id=agent.pk, nonce=feed.nonce)
