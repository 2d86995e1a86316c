"""What ticket events set in motion by mail: replies, status news, notifications.

``on_ticket_event`` is an after-commit listener: it only enqueues a task that
takes the event's id. The task records the event in :class:`MailedEvent` in
the same transaction as the mail it writes, so running it twice (a retried
task, two workers) mails nobody twice.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.mail.mentions import Person, mentioned
from expediter.mail.models import MailedEvent
from expediter.mail.notify import notify_user
from expediter.mail.services import replies
from expediter.staff.models import User
from expediter.staff.selectors import agents_active
from expediter.tickets.models import Article, Ticket, TicketEvent

HANDLED_VERBS = frozenset({"article_added", "assigned", "status_changed", "reopened"})


def wants_event(*, ticket: Ticket, event: TicketEvent) -> bool:
    """Whether the event may call for a mail or a notification."""
    return event.verb in HANDLED_VERBS


def on_ticket_event(*, ticket: Ticket, event: TicketEvent) -> None:
    """After commit: hand the events mail cares about to the worker."""
    if not wants_event(ticket=ticket, event=event):
        return
    from expediter.mail.tasks import mail_for_event

    mail_for_event.enqueue(event_id=event.pk)


def mail_for_event(*, event_id: int) -> str:
    """Mail and notify about one event, once."""
    with transaction.atomic():
        event = TicketEvent.objects.select_related("ticket", "actor").filter(pk=event_id).first()
        if event is None:
            return "no such event"
        try:
            with transaction.atomic():
                MailedEvent.objects.create(event=event, handled_at=clock.now())
        except IntegrityError:
            return "already handled"
        return _dispatch(event)


def _after(event: TicketEvent, field: str) -> Any:
    values = event.changes.get(field) or [None, None]
    return values[1] if len(values) > 1 else None


def _dispatch(event: TicketEvent) -> str:
    if event.verb == "article_added":
        return _article_added(event)
    if event.verb == "assigned":
        return _assigned(event)
    status = _after(event, "status")
    if status in replies.STATUS_KINDS:
        replies.status_mail(ticket=event.ticket, status=status)
        return f"status mail ({status})"
    return "nothing to mail"


def _article_added(event: TicketEvent) -> str:
    article = (
        Article.objects.select_related("ticket", "ticket__requester", "author")
        .filter(pk=_after(event, "article"))
        .first()
    )
    if article is None or article.ticket_id != event.ticket_id:
        return "article gone"
    if article.internal:
        return _mentions(article)
    if article.kind != "message":
        return "automatic mail is never answered"
    if _after(event, "from") == "agent":
        replies.reply_mail(article=article)
        return "reply mailed"
    return _requester_replied(article)


def _requester_replied(article: Article) -> str:
    ticket = article.ticket
    assignee = ticket.assignee
    if assignee is None or assignee.pk == article.author_id:
        return "nobody to notify"
    with translation.override(replies.language_of(assignee)):
        text = _("%(name)s replied on #%(number)s %(subject)s") % {
            "name": article.from_name or ticket.requester.name,
            "number": ticket.number,
            "subject": ticket.subject,
        }
    notify_user(user=assignee, ticket=ticket, kind="requester_replied", text=text)
    return "assignee notified"


def _mentions(article: Article) -> str:
    agents = agents_active().exclude(pk=article.author_id or 0)
    people = [Person(id=a.pk, name=a.name, email=a.email) for a in agents]
    ids = mentioned(article.body, people)
    ticket = article.ticket
    author = article.from_name or (article.author.name if article.author else "")
    for person in User.objects.filter(pk__in=ids).order_by("id"):
        with translation.override(replies.language_of(person)):
            text = _("%(author)s mentioned you on #%(number)s %(subject)s") % {
                "author": author,
                "number": ticket.number,
                "subject": ticket.subject,
            }
        notify_user(user=person, ticket=ticket, kind="mentioned", text=text)
    return f"{len(ids)} mentioned"


def _assigned(event: TicketEvent) -> str:
    """By hand only: automatic assignment notifies the agent itself."""
    target = _after(event, "assignee") or {}
    if event.actor_id is None or not target.get("id") or target["id"] == event.actor_id:
        return "nobody to notify"
    assignee = User.objects.filter(pk=target["id"]).first()
    if assignee is None:
        return "nobody to notify"
    ticket = event.ticket
    with translation.override(replies.language_of(assignee)):
        text = _("%(actor)s assigned #%(number)s %(subject)s to you") % {
            "actor": event.actor.name if event.actor else "",
            "number": ticket.number,
            "subject": ticket.subject,
        }
    notify_user(user=assignee, ticket=ticket, kind="assigned", text=text)
    return "assignee notified"
