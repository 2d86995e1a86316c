"""Mail the desk writes to requesters: acknowledgements, agents' replies, status news.

Each is rendered from a Django template, in plain text and HTML, in the
requester's language, and written to the outbox inside the caller's
transaction. Threading headers chain every message to the ticket's thread,
so the requester's mail client shows one conversation and their answer
joins the ticket by its headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from expediter.mail import selectors
from expediter.mail.addresses import bare, desk_addresses
from expediter.mail.models import OutboundMessage
from expediter.mail.outbox import DEFAULT_CONTEXT, OutboxContext, outbox_enqueue
from expediter.mail.parsing import ParsedMessage
from expediter.mail.parsing.html import sanitize_html
from expediter.mail.services.magic import magic_link_create
from expediter.staff.models import Role, User
from expediter.tickets.models import Article, Status, Ticket

ACK = "ack"
REPLY = "reply"
STATUS = "status"
STATUS_KINDS = {Status.WAITING_REQUESTER: "waiting", Status.RESOLVED: "resolved"}


def language_of(user: User) -> str:
    supported = {code for code, _name in settings.LANGUAGES}
    return user.language if user.language in supported else settings.LANGUAGE_CODE


def _url(name: str, *args: Any) -> str:
    try:
        return settings.BASE_URL + reverse(name, args=args)
    except NoReverseMatch:
        return settings.BASE_URL + "/"


def ticket_link_for(*, user: User, ticket: Ticket) -> str:
    """Where a mail sends its reader: a one-time sign-in link for requesters."""
    if user.role == Role.REQUESTER:
        return magic_link_create(user=user, ticket=ticket)
    return _url("web:ticket", ticket.pk)


def _render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    text = render_to_string(f"mail/{name}.txt", context)
    html = render_to_string(f"mail/{name}.html", context)
    return text, html


def acknowledge(
    *,
    ticket: Ticket,
    requester: User,
    parsed: ParsedMessage,
    outbox_context: OutboxContext = DEFAULT_CONTEXT,
) -> OutboundMessage | None:
    """Tell the sender of a new request by email that it was received, and its number."""
    if not requester.is_active or bare(requester.email) in desk_addresses():
        return None
    own_id = selectors.bracketed(parsed.message_id) if parsed.message_id else ""
    references = [selectors.bracketed(r) for r in parsed.references][-19:]
    with translation.override(language_of(requester)):
        context = {
            "name": requester.name,
            "number": ticket.number,
            "subject": ticket.subject,
            "link": ticket_link_for(user=requester, ticket=ticket),
        }
        text, html = _render("acknowledgement", context)
        subject = _("Received: %(subject)s") % {"subject": ticket.subject}
    return outbox_enqueue(
        kind=ACK,
        to=[requester.email],
        subject=subject,
        text=text,
        html=html,
        ticket=ticket,
        auto=True,
        in_reply_to=own_id,
        references=[*references, own_id] if own_id else references,
        context=outbox_context,
    )


def _recipients(ticket: Ticket, *, exclude: Sequence[int]) -> tuple[list[User], list[User]]:
    """``(to, cc)``: the requester, and the watchers, active and not the desk."""
    own = desk_addresses()

    def wanted(person: User) -> bool:
        return person.is_active and person.pk not in exclude and bare(person.email) not in own

    to = [ticket.requester] if wanted(ticket.requester) else []
    cc = [w for w in ticket.watchers.all().order_by("id") if wanted(w)]
    if not to and cc:
        to, cc = cc[:1], cc[1:]
    return to, cc


def _shown_html(article: Article) -> str:
    """The article's own HTML (an agent's reply by email), cleaned again before it is mailed.

    It keeps the ``cid:`` images the agent's mail showed in place, which the
    outbox sends beside it (``outbox.build_email``); other articles are text.
    """
    return sanitize_html(article.html) if article.html else ""


def reply_mail(*, article: Article) -> OutboundMessage | None:
    """Send an agent's public reply to the requester, watchers copied."""
    ticket = article.ticket
    to, cc = _recipients(ticket, exclude=[article.author_id] if article.author_id else [])
    if not to:
        return None
    reader = to[0]
    thread = selectors.ticket_thread(ticket=ticket)
    with translation.override(language_of(reader)):
        context = {
            "name": reader.name,
            "number": ticket.number,
            "subject": ticket.subject,
            "author": article.from_name or (article.author.name if article.author else ""),
            "body": article.body,
            "html_body": _shown_html(article),
            "link": ticket_link_for(user=reader, ticket=ticket),
        }
        text, html = _render("reply", context)
        subject = _("Re: %(subject)s") % {"subject": ticket.subject}
    return outbox_enqueue(
        kind=REPLY,
        to=[p.email for p in to],
        cc=[p.email for p in cc],
        subject=subject,
        text=text,
        html=html,
        ticket=ticket,
        article=article,
        in_reply_to=thread.last,
        references=thread.references,
    )


def status_mail(*, ticket: Ticket, status: str) -> OutboundMessage | None:
    """Tell the requester the ticket waits on them, or is resolved (reply to reopen)."""
    which = STATUS_KINDS.get(status)  # type: ignore[call-overload]
    requester = ticket.requester
    if which is None or not requester.is_active:
        return None
    thread = selectors.ticket_thread(ticket=ticket)
    with translation.override(language_of(requester)):
        context = {
            "name": requester.name,
            "number": ticket.number,
            "subject": ticket.subject,
            "which": which,
            "link": ticket_link_for(user=requester, ticket=ticket),
        }
        text, html = _render("status", context)
        if which == "waiting":
            subject = _("Waiting on you: %(subject)s") % {"subject": ticket.subject}
        else:
            subject = _("Resolved: %(subject)s") % {"subject": ticket.subject}
    return outbox_enqueue(
        kind=STATUS,
        to=[requester.email],
        subject=subject,
        text=text,
        html=html,
        ticket=ticket,
        auto=True,
        in_reply_to=thread.last,
        references=thread.references,
    )
