"""Processing one stored message: thread it, apply the rules, record the outcome.

Runs in one transaction (or, in a batch, one savepoint) together with the
update of the inbound row, so an article is never made without its message
being marked processed (and a retry never makes it twice). The rules
themselves are the pure :func:`expediter.mail.decide.decide`; this module
takes the facts they need from :class:`IntakeLookups` and carries out their
answer through the ticket services.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field

from expediter.core import clock
from expediter.core.errors import InvalidInput
from expediter.core.rows import executed, quoted_columns, stored_value
from expediter.mail import selectors
from expediter.mail.addresses import desk_addresses
from expediter.mail.decide import Decision, Facts, JoinedBy, decide
from expediter.mail.models import InboundMessage, InboundStatus
from expediter.mail.parsing import Address, ParsedMessage, parse_message
from expediter.mail.quoting import split_reply
from expediter.mail.services import replies
from expediter.mail.services.lookups import IntakeLookups
from expediter.staff import policies
from expediter.staff.models import User
from expediter.staff.services import requester_get_or_create
from expediter.tickets.models import Article, Channel, Ticket
from expediter.tickets.selectors import ticket_by_number
from expediter.tickets.services import (
    ArticleOrigin,
    NewAttachment,
    article_add,
    attachments_store,
    ticket_add_watcher,
    ticket_add_watchers,
    ticket_open,
)

SUBJECT_MAX = 250
MAX_NEW_WATCHERS = 20  # a message copied to a crowd does not create a crowd of accounts
NO_SUBJECT = "(no subject)"
NO_TEXT = "(no text)"
UNLIMITED = 2**62


@dataclass(frozen=True)
class Outcome:
    status: str
    ticket_id: int | None = None
    article_id: int | None = None
    reason: str | None = None
    duplicate_of: int | None = None


@dataclass(frozen=True)
class Match:
    ticket: Ticket
    joined_by: JoinedBy


class NoLongerPending(Exception):
    """Someone else processed (or deleted) the message meanwhile: our work is rolled back."""


def parse_options(*, release: bool = False) -> dict[str, Any]:
    """How intake parses: within the size limit, unless an administrator released the message.

    Plain values, so that a parsing process without the settings can be handed them.
    """
    limit = UNLIMITED if release else settings.MAIL_MAX_BYTES
    return {"max_bytes": limit, "desk_address": settings.MAIL_FROM}


def parse_stored(raw: bytes, *, release: bool = False) -> ParsedMessage:
    """Parse as intake does (:func:`parse_options`)."""
    return parse_message(raw, **parse_options(release=release))


def process_parsed(*, inbound_id: int, raw: bytes, release: bool = False) -> Outcome:
    """Parse ``raw`` (outside the transaction: it is the slow part) and act on it."""
    parsed = parse_stored(raw, release=release)
    with transaction.atomic():
        inbound = _locked(inbound_id)
        if inbound.status != InboundStatus.PENDING:
            return Outcome(inbound.status, inbound.ticket_id, inbound.article_id, inbound.reason)
        lookups = IntakeLookups.prefetch([parsed])
        outcome = process_one(inbound=inbound, parsed=parsed, lookups=lookups, release=release)
        lookups.finish()
    return outcome


def process_one(
    *,
    inbound: InboundMessage,
    parsed: ParsedMessage,
    lookups: IntakeLookups,
    release: bool = False,
) -> Outcome:
    """Act on a claimed, pending message and record the outcome on its row.

    Call inside a transaction; raises :class:`NoLongerPending` when the row
    is no longer pending by the time it is recorded.
    """
    _describe(inbound, parsed)
    outcome = _act(inbound, parsed, lookups, release=release)
    if outcome.article_id is not None:
        _split_for_display(inbound, parsed)
    _record(inbound, outcome)
    return outcome


def _locked(inbound_id: int) -> InboundMessage:
    rows = InboundMessage.objects.all()
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return rows.get(pk=inbound_id)


def _describe(inbound: InboundMessage, parsed: ParsedMessage) -> None:
    """What the administrators' lists show, whatever becomes of the message."""
    sender = parsed.sender
    inbound.from_email = (sender.address if sender else "")[:254]
    inbound.from_name = (sender.name if sender else "")[:200]
    inbound.subject = parsed.subject[:300]
    inbound.message_id = (parsed.message_id or "")[:255]
    inbound.kind = parsed.classification.kind
    inbound.evidence = list(parsed.classification.reasons)[:20]


def _split_for_display(inbound: InboundMessage, parsed: ParsedMessage) -> None:
    """What the sender just wrote, and the quotation to fold under it (articles only)."""
    if not parsed.text:
        return
    sender = parsed.sender
    reply, quoted = parsed.reply_split or split_reply(
        parsed.text, sender_name=sender.name if sender else None
    )
    inbound.reply_text, inbound.quoted_text = (reply, quoted) if quoted else ("", "")


def _record(inbound: InboundMessage, outcome: Outcome) -> None:
    """One conditional UPDATE: it also proves nobody else recorded the message first."""
    inbound.status = outcome.status
    inbound.ticket_id = outcome.ticket_id
    inbound.article_id = outcome.article_id
    inbound.reason = outcome.reason or ""
    inbound.duplicate_of_id = outcome.duplicate_of
    inbound.processed_at = clock.now()
    inbound.claimed_until = None
    if not _update_if_pending(inbound):
        raise NoLongerPending(f"inbound message {inbound.pk} is no longer pending")


_RECORDED_FIELDS = (
    *("from_email", "from_name", "subject", "message_id", "kind", "evidence"),
    *("reply_text", "quoted_text", "status", "ticket", "article", "reason", "duplicate_of"),
    *("processed_at", "claimed_until"),
)


def _update_if_pending(inbound: InboundMessage) -> bool:
    """Write the recorded fields of a row that is still pending; False if it is not.

    Every message runs this statement, and the ORM would build its SQL anew
    each time, at several times the cost of running it; it is built once per
    database instead, and each value is converted by its model field as the
    ORM would convert it.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not its proxy, for each value
    values = [stored_value(f, getattr(inbound, f.attname), db) for f in _recorded_fields()]
    params = [*values, inbound.pk, InboundStatus.PENDING.value]
    with executed(_pending_update_sql(db.vendor), params) as cursor:
        return bool(cursor.rowcount == 1)


def _field(name: str) -> Field[Any, Any]:
    return next(f for f in InboundMessage._meta.concrete_fields if f.name == name)


@functools.cache
def _recorded_fields() -> tuple[Field[Any, Any], ...]:
    return tuple(_field(name) for name in _RECORDED_FIELDS)


@functools.cache
def _pending_update_sql(vendor: str) -> str:
    """``UPDATE inbound SET ... WHERE id = %s AND status = %s`` (quoted for ``vendor``)."""
    column = quoted_columns(InboundMessage)
    assignments = ", ".join(f"{column[field.name]} = %s" for field in _recorded_fields())
    where = f"{column['id']} = %s AND {column['status']} = %s"
    table = connection.ops.quote_name(InboundMessage._meta.db_table)
    return f"UPDATE {table} SET {assignments} WHERE {where}"  # noqa: S608


# --- facts ----------------------------------------------------------------------


def _usable_sender(parsed: ParsedMessage) -> Address | None:
    """The sender, if the desk can make a person of it and write back."""
    sender = parsed.sender
    if sender is None or not sender.is_usable:
        return None
    for candidate in dict.fromkeys([sender.address, sender.address.rstrip(".")]):
        if _valid_email(candidate):
            return Address(name=sender.name, address=candidate)
    return None


@functools.lru_cache(maxsize=4096)
def _valid_email(address: str) -> bool:
    """Django's validation, remembered: the same senders write again and again."""
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def _match(parsed: ParsedMessage, lookups: IntakeLookups) -> Match | None:
    """Headers first, then the returned message of a bounce, then the subject token."""
    by_headers = lookups.thread_ticket(parsed.thread_ids)
    if by_headers is not None:
        return Match(by_headers, "headers")
    original = parsed.classification.original_message_id
    if parsed.classification.kind == "bounce" and original:
        bounced = lookups.thread_ticket([original])
        if bounced is not None:
            return Match(bounced, "bounce")
    number = parsed.ticket_number
    if number is not None:
        by_token = selectors.followed_merges(ticket_by_number(number))
        if by_token is not None:
            return Match(by_token, "token")
    return None


def _user_of(address: Address | None) -> User | None:
    if address is None:
        return None
    return User.objects.by_email(address.address)


def _facts(
    parsed: ParsedMessage,
    sender: Address | None,
    match: Match | None,
    lookups: IntakeLookups,
    *,
    release: bool,
) -> tuple[Facts, int | None]:
    ticket = match.ticket if match else None
    user = _user_of(sender) if ticket is not None else None  # standing matters on a ticket
    quarantine = parsed.quarantine_reason
    if quarantine is None and sender is None and parsed.classification.kind != "bounce":
        written = parsed.sender.address if parsed.sender else ""
        quarantine = f"the sender address {written!r} is not usable"
    duplicate = lookups.duplicate_of(parsed.message_id)
    own = lookups.is_own(parsed.message_id) or (
        sender is not None and sender.key in desk_addresses()
    )
    facts = Facts(
        kind=parsed.classification.kind,
        quarantine_reason=quarantine,
        duplicate_reason=(
            f"a copy of inbound message {duplicate} (same Message-ID)" if duplicate else None
        ),
        own_message=own,
        joined_by=match.joined_by if match else None,
        sender_is_requester=bool(user and ticket and ticket.requester_id == user.pk),
        sender_is_watcher=bool(user and ticket and ticket.watchers.filter(pk=user.pk).exists()),
        sender_is_agent=bool(user and policies.is_agent(user)),
        released=release,
    )
    return facts, duplicate


# --- acting -----------------------------------------------------------------------


def _act(
    inbound: InboundMessage, parsed: ParsedMessage, lookups: IntakeLookups, *, release: bool
) -> Outcome:
    sender = _usable_sender(parsed)
    match = _match(parsed, lookups)
    facts, duplicate_of = _facts(parsed, sender, match, lookups, release=release)
    decision = decide(facts)
    if decision.mark_bounced:
        for address in parsed.classification.bounced_recipients:
            lookups.mark_failing(address=address, inbound=inbound)
    if decision.action == "quarantine":
        return Outcome(InboundStatus.QUARANTINED, reason=decision.reason)
    if decision.action == "ignore":
        ticket_id = match.ticket.pk if match else None
        duplicate = duplicate_of if facts.duplicate_reason else None
        return Outcome(
            InboundStatus.IGNORED,
            ticket_id=ticket_id,
            reason=decision.reason,
            duplicate_of=duplicate,
        )
    if sender is not None and parsed.classification.kind == "normal":
        lookups.clear_failing(address=sender.address)
    if decision.action == "create" or match is None:
        return _create(parsed, sender, decision, lookups)
    return _append(parsed, sender, decision, match, lookups)


def _language(parsed: ParsedMessage) -> str:
    declared = (parsed.header("Content-Language") or "").strip().lower()
    return "fr" if declared.startswith("fr") else "en"


def _requester(parsed: ParsedMessage, sender: Address | None) -> User:
    if sender is None:
        raise InvalidInput("no usable sender address", field="from")
    return requester_get_or_create(
        email=sender.address, name=sender.name, language=_language(parsed)
    )


def _attachments(parsed: ParsedMessage) -> list[NewAttachment]:
    return [
        NewAttachment(
            filename=a.filename,
            data=a.content,
            content_type=a.content_type,
            content_id=a.content_id or "",
            inline=a.inline,
        )
        for a in parsed.attachments
    ]


def _subject(parsed: ParsedMessage) -> str:
    subject = " ".join(parsed.subject.split())
    return subject[:SUBJECT_MAX] if subject else NO_SUBJECT


def _create(
    parsed: ParsedMessage, sender: Address | None, decision: Decision, lookups: IntakeLookups
) -> Outcome:
    requester = _requester(parsed, sender)
    opened = ticket_open(
        requester=requester,
        actor=None,
        subject=_subject(parsed),
        description=parsed.text,
        html=parsed.html,
        channel=Channel.EMAIL,
        from_email=requester.email,
        from_name=parsed.sender.name if parsed.sender else "",
    )
    ticket, article = opened.ticket, opened.article
    # Attachments a message brought within the mail size limit are all kept.
    attachments_store(article=article, attachments=_attachments(parsed), enforce_limit=False)
    return _created(parsed, ticket, article, requester, lookups, acknowledge=decision.acknowledge)


def _created(
    parsed: ParsedMessage,
    ticket: Ticket,
    article: Article,
    requester: User,
    lookups: IntakeLookups,
    *,
    acknowledge: bool,
) -> Outcome:
    _copied_become_watchers(ticket, parsed)
    if acknowledge:
        replies.acknowledge(
            ticket=ticket, requester=requester, parsed=parsed, outbox_context=lookups
        )
    return Outcome(InboundStatus.CREATED, ticket_id=ticket.pk, article_id=article.pk)


def _copied_become_watchers(ticket: Ticket, parsed: ParsedMessage) -> None:
    own = desk_addresses()
    sender_key = parsed.sender.key if parsed.sender else ""
    people: list[User] = []
    for address in parsed.cc:
        if len(people) >= MAX_NEW_WATCHERS:
            break
        if not address.is_usable or address.key in own or address.key == sender_key:
            continue
        try:
            people.append(requester_get_or_create(email=address.address, name=address.name))
        except InvalidInput:
            continue
    if people:
        ticket_add_watchers(
            ticket_id=ticket.pk, watchers=people, actor=None, reason="copied on the email"
        )


def _author(parsed: ParsedMessage, sender: Address | None, decision: Decision) -> User | None:
    """Whose words these are; a stranger joining by ticket number stays anonymous."""
    if decision.article_kind in ("unknown_sender", "bounce"):
        return None
    user = _user_of(sender)
    if user is not None or not decision.sender_becomes_watcher:
        return user
    return _requester(parsed, sender)


def _body(parsed: ParsedMessage, decision: Decision) -> str:
    text = parsed.text.strip()
    if decision.article_kind == "bounce":
        failed = ", ".join(parsed.classification.bounced_recipients) or "a recipient"
        return f"Mail to {failed} could not be delivered.\n\n{text}".strip()
    return text or NO_TEXT


def _append(
    parsed: ParsedMessage,
    sender: Address | None,
    decision: Decision,
    match: Match,
    lookups: IntakeLookups,
) -> Outcome:
    author = _author(parsed, sender, decision)
    written = parsed.sender  # as written, even when unusable (a bounce's MAILER-DAEMON)
    article = article_add(
        ticket_id=match.ticket.pk,
        author=author,
        actor=None,
        body=_body(parsed, decision),
        internal=decision.internal,
        html=parsed.html,
        attachments=_attachments(parsed),
        origin=ArticleOrigin(
            channel=Channel.EMAIL,
            from_name=written.name if written else "",
            from_email=written.address if written else "",
            kind=decision.article_kind,
        ),
        enforce_attachment_limit=False,
        changes_state=decision.changes_state,
    )
    if article.ticket_id != match.ticket.pk:  # a reply to a closed ticket opened a new one
        follow_up = article.ticket
        acknowledge = parsed.classification.kind == "normal" and not decision.internal
        requester = follow_up.requester
        return _created(parsed, follow_up, article, requester, lookups, acknowledge=acknowledge)
    if decision.sender_becomes_watcher and author is not None:
        ticket_add_watcher(
            ticket_id=match.ticket.pk, watcher=author, actor=None, reason="replied to the thread"
        )
    if decision.cc_become_watchers:
        _copied_become_watchers(match.ticket, parsed)
    return Outcome(InboundStatus.APPENDED, ticket_id=match.ticket.pk, article_id=article.pk)
