"""Reads of the mail channel: threads, the admin lists, what the pages show."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

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


# Message-IDs per query: far below every database's limit on bound parameters.
IDS_PER_QUERY = 500
THREAD_IDS_KEPT = 100  # a References header can be very long; the nearest ids decide


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), IDS_PER_QUERY):
        yield ordered[start : start + IDS_PER_QUERY]


def thread_candidates(message_ids: Sequence[str]) -> list[str]:
    """The ids a message may thread by, nearest first, as stored (without brackets)."""
    return list(dict.fromkeys(unbracketed(m) for m in message_ids if m.strip()))[:THREAD_IDS_KEPT]


@dataclass
class ThreadIndex:
    """Which ticket each known Message-ID belongs to, sent or received (without brackets).

    Looked up once for a whole batch of messages; the intake adds what it
    records in the batch, so a reply threads to a ticket created just before it.
    """

    sent: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)

    def ticket_id(self, message_ids: Sequence[str]) -> int | None:
        """The ticket of the nearest message (first in ``message_ids``); what we sent wins."""
        for message_id in thread_candidates(message_ids):
            found = self.sent.get(message_id, self.received.get(message_id))
            if found is not None:
                return found
        return None


def thread_index(*, message_ids: Collection[str]) -> ThreadIndex:
    """The tickets of these Message-IDs (unbracketed): two queries per 500 ids."""
    index = ThreadIndex()
    for chunk in _chunks(message_ids):
        sent = OutboundMessage.objects.filter(
            message_id__in=[bracketed(m) for m in chunk], ticket__isnull=False
        ).order_by("pk")
        for message_id, ticket_id in sent.values_list("message_id", "ticket_id"):
            index.sent.setdefault(unbracketed(message_id), ticket_id)
        received = InboundMessage.objects.filter(message_id__in=chunk, ticket__isnull=False)
        for message_id, ticket_id in received.order_by("pk").values_list("message_id", "ticket_id"):
            index.received.setdefault(message_id, ticket_id)
    return index


def ticket_of_thread(ticket_id: int | None) -> Ticket | None:
    """The ticket a thread leads to, past merges."""
    if ticket_id is None:
        return None
    return followed_merges(Ticket.objects.filter(pk=ticket_id).first())


def followed_merges(ticket: Ticket | None) -> Ticket | None:
    """A merged ticket's mail goes to the ticket it was merged into."""
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first() or ticket
    return ticket


def own_message_ids(*, message_ids: Collection[str]) -> set[str]:
    """Which of these Message-IDs (unbracketed) the desk sent itself."""
    own: set[str] = set()
    for chunk in _chunks(message_ids):
        asked: dict[str, list[str]] = {}
        for message_id in chunk:
            asked.setdefault(bracketed(message_id), []).append(message_id)
        sent = OutboundMessage.objects.filter(message_id__in=list(asked))
        for found in sent.values_list("message_id", flat=True):
            own.update(asked[found])
    return own


PROCESSED = (InboundStatus.CREATED, InboundStatus.APPENDED, InboundStatus.IGNORED)


def inbound_processed_copies(*, message_ids: Collection[str]) -> dict[str, int]:
    """The first processed message received with each of these Message-IDs."""
    first: dict[str, int] = {}
    for chunk in _chunks(message_ids):
        copies = InboundMessage.objects.filter(message_id__in=chunk, status__in=PROCESSED)
        for message_id, pk in copies.order_by("pk").values_list("message_id", "pk"):
            first.setdefault(message_id, pk)
    return first


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
    """What the ticket page warns about: mail that failed, waits for a relay, or was
    stopped, and mail that went without a file lost from the store (sent, with an error)."""
    troubled = [OutboundStatus.FAILED, OutboundStatus.RETRYING, OutboundStatus.SUPPRESSED]
    lacking = Q(status=OutboundStatus.SENT) & ~Q(last_error="")
    rows = OutboundMessage.objects.filter(Q(status__in=troubled) | lacking, ticket=ticket)
    return list(rows.order_by("id"))


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
