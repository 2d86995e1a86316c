"""Reads about calls."""

from __future__ import annotations

from django.db.models import QuerySet

from expediter.staff.models import User
from expediter.telephony.models import Call
from expediter.tickets.selectors import ticket_visible_queryset


def calls_awaiting_callback(*, user: User) -> QuerySet[Call]:
    """Missed calls and voicemails nobody has returned yet, oldest first."""
    visible = ticket_visible_queryset(user)
    return (
        Call.objects.filter(needs_callback=True, called_back_at__isnull=True, ticket__in=visible)
        .select_related("caller", "ticket")
        .order_by("started_at", "id")
    )


def caller_lookup(*, number: str) -> User | None:
    from expediter.staff.selectors import user_by_phone

    return user_by_phone(phone=number)
