"""Telling people about what concerns them: in-app and by email, as they chose."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from expediter.core import clock
from expediter.mail.models import Notification, NotificationKind, NotificationPreference
from expediter.mail.outbox import outbox_enqueue
from expediter.staff.models import User
from expediter.tickets.models import Ticket


def _ticket_link(ticket: Ticket) -> str:
    try:
        return settings.BASE_URL + reverse("web:ticket", args=[ticket.pk])
    except NoReverseMatch:
        return settings.BASE_URL


def notify_user(
    *, user: User, ticket: Ticket | None, kind: str, text: str, email: bool = True
) -> Notification | None:
    """Notify ``user`` in the app and by email, unless they turned that kind off.

    Call inside the transaction of the change that warrants it: the email is
    sent only if that change commits.
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not user.is_active:
        return None
    pref = NotificationPreference.objects.filter(user=user, kind=kind).first()
    wants_app = pref.in_app if pref else True
    wants_mail = (pref.email if pref else True) and email
    notification = None
    if wants_app:
        notification = Notification.objects.create(
            user=user, ticket=ticket, kind=kind, text=text, created_at=clock.now()
        )
    if wants_mail:
        body = text if ticket is None else f"{text}\n\n{_ticket_link(ticket)}"
        subject = text if ticket is None else f"{ticket.subject}: {text}"
        outbox_enqueue(
            kind=f"notify_{kind}",
            to=[user.email],
            subject=subject[:250],
            text=body,
            ticket=ticket,
            auto=True,
        )
    return notification


def notification_set_preference(*, user: User, kind: str, email: bool, in_app: bool) -> None:
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"email": email, "in_app": in_app}
    )


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=clock.now())
