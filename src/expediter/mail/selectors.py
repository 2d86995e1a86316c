"""Reads of the mail channel: threads, the admin lists, what the pages show."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from expediter.mail.models import (
    FailingAddress,
    InboundMessage,
    InboundStatus,
    Mailbox,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboundMessage,
    OutboundStatus,
)
from expediter.staff.models import User
from expediter.tickets.models import Article, Ticket

# References kept in outbound headers: the first message and the latest ones.
MAX_REFERENCES = 20


def bracketed(message_id: str) -> str:
    """Our outbox keeps ids as they appear in headers (``<id>``), the parser without."""
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def unbracketed(message_id: str) -> str:
    return message_id.strip().lstrip("<").rstrip(">")


def ticket_by_message_ids(message_ids: Sequence[str]) -> Ticket | None:
    """The ticket of the nearest message (first in ``message_ids``) we sent or received."""
    if not message_ids:
        return None
    wanted = list(dict.fromkeys(unbracketed(m) for m in message_ids if m.strip()))[:100]
    found: dict[str, int] = {}
    sent = OutboundMessage.objects.filter(
        message_id__in=[bracketed(m) for m in wanted], ticket__isnull=False
    ).values_list("message_id", "ticket_id")
    for message_id, ticket_id in sent:
        found.setdefault(unbracketed(message_id), ticket_id)
    received = InboundMessage.objects.filter(
        message_id__in=wanted, ticket__isnull=False
    ).values_list("message_id", "ticket_id")
    for message_id, ticket_id in received:
        found.setdefault(message_id, ticket_id)
    for message_id in wanted:
        if message_id in found:
            return followed_merges(Ticket.objects.filter(pk=found[message_id]).first())
    return None


def followed_merges(ticket: Ticket | None) -> Ticket | None:
    """A merged ticket's mail goes to the ticket it was merged into."""
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first() or ticket
    return ticket


def is_own_message_id(message_id: str | None) -> bool:
    return (
        bool(message_id)
        and OutboundMessage.objects.filter(message_id=bracketed(message_id or "")).exists()
    )


def inbound_duplicate_of(*, message_id: str | None, exclude_pk: int) -> InboundMessage | None:
    """An earlier copy of the same message (same Message-ID) that was processed."""
    if not message_id:
        return None
    done = [InboundStatus.CREATED, InboundStatus.APPENDED, InboundStatus.IGNORED]
    copies = InboundMessage.objects.filter(message_id=message_id, status__in=done)
    # Any earlier copy will do; no ORDER BY, so the Message-ID index answers alone.
    return copies.exclude(pk=exclude_pk).order_by().only("pk").first()


@dataclass(frozen=True)
class Thread:
    """The Message-IDs of a ticket's conversation, oldest first (with brackets)."""

    ids: tuple[str, ...]

    @property
    def last(self) -> str:
        return self.ids[-1] if self.ids else ""

    @property
    def references(self) -> tuple[str, ...]:
        if len(self.ids) <= MAX_REFERENCES:
            return self.ids
        return (self.ids[0], *self.ids[-(MAX_REFERENCES - 1) :])


def ticket_thread(*, ticket: Ticket) -> Thread:
    """Every message of the ticket's thread, sent or received, in time order."""
    sent = OutboundMessage.objects.filter(ticket=ticket).exclude(status=OutboundStatus.SUPPRESSED)
    received = InboundMessage.objects.filter(ticket=ticket).exclude(message_id="")
    dated = [(m.created_at, m.pk, m.message_id) for m in sent.only("created_at", "message_id")]
    dated += [
        (m.received_at, m.pk, bracketed(m.message_id))
        for m in received.only("received_at", "message_id")
    ]
    dated.sort()
    return Thread(ids=tuple(dict.fromkeys(message_id for _at, _pk, message_id in dated)))


# --- administrators' lists -------------------------------------------------------


def inbound_list(*, statuses: Iterable[str]) -> QuerySet[InboundMessage]:
    """Messages in these states, newest first; ``pending`` ones that failed included."""
    wanted = list(statuses)
    query = Q(status__in=wanted)
    if InboundStatus.QUARANTINED in wanted:
        query |= Q(status=InboundStatus.PENDING, attempts__gt=0)
    return InboundMessage.objects.filter(query).select_related("ticket").order_by("-id")


def inbound_get(*, inbound_id: int) -> InboundMessage | None:
    return InboundMessage.objects.select_related("blob", "ticket").filter(pk=inbound_id).first()


def outbox_list(*, statuses: Iterable[str] | None = None) -> QuerySet[OutboundMessage]:
    messages = OutboundMessage.objects.select_related("ticket").order_by("-id")
    return messages.filter(status__in=list(statuses)) if statuses else messages


def outbox_failures_of(*, ticket: Ticket) -> list[OutboundMessage]:
    """What the ticket page warns about: mail that failed, waits for a relay, or was stopped."""
    troubled = [OutboundStatus.FAILED, OutboundStatus.RETRYING, OutboundStatus.SUPPRESSED]
    return list(OutboundMessage.objects.filter(ticket=ticket, status__in=troubled).order_by("id"))


def failing_address_list() -> QuerySet[FailingAddress]:
    return FailingAddress.objects.all()


def mailbox_list(*, active_only: bool = False) -> QuerySet[Mailbox]:
    boxes = Mailbox.objects.all()
    return boxes.filter(is_active=True) if active_only else boxes


# --- what the ticket page collapses ------------------------------------------------


@dataclass(frozen=True)
class ReplySplit:
    """An email article's new text and what to collapse under it (quotes, signature)."""

    new_text: str
    quoted: str


def reply_splits(*, articles: Iterable[Article]) -> dict[int, ReplySplit]:
    """One query for a page of articles: ``{article_id: ReplySplit}`` where there is a tail."""
    ids = [a.pk for a in articles]
    rows = InboundMessage.objects.filter(article_id__in=ids).exclude(quoted_text="")
    return {
        row.article_id: ReplySplit(new_text=row.reply_text, quoted=row.quoted_text)
        for row in rows.only("article_id", "reply_text", "quoted_text")
        if row.article_id is not None
    }


# --- notifications ------------------------------------------------------------------


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    mine = Notification.objects.filter(user=user).select_related("ticket")
    return mine.filter(read_at__isnull=True) if unread_only else mine


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@dataclass(frozen=True)
class PreferenceRow:
    kind: str
    label: str
    email: bool
    in_app: bool


def notification_preferences(*, user: User) -> list[PreferenceRow]:
    """Every kind with the person's choice (both channels on where none was made)."""
    chosen = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    rows = []
    for kind, label in NotificationKind.choices:
        pref = chosen.get(kind)
        rows.append(
            PreferenceRow(
                kind=kind,
                label=str(label),
                email=pref.email if pref else True,
                in_app=pref.in_app if pref else True,
            )
        )
    return rows
