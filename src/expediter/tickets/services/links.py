"""Links between tickets (duplicate, related, parent/child) and merging."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from expediter.core import clock
from expediter.core.errors import InvalidInput, InvalidTransition
from expediter.staff.models import User
from expediter.tickets.models import LinkKind, Status, Ticket, TicketLink
from expediter.tickets.search import search_reindex
from expediter.tickets.services._common import event_record, require_staff, ticket_for_update


def link_create(
    *, source: Ticket, target: Ticket, kind: str, actor: User | None, reason: str | None = None
) -> TicketLink:
    """Link two locked tickets and record it on both timelines."""
    if kind not in LinkKind.values:
        raise InvalidInput(_("unknown link kind '%(kind)s'") % {"kind": kind}, field="kind")
    if source.pk == target.pk:
        raise InvalidInput(_("a ticket cannot be linked to itself"), field="target")
    link, created = TicketLink.objects.get_or_create(
        source=source, target=target, kind=kind, defaults={"created_at": clock.now()}
    )
    if created:
        event_record(
            ticket=source,
            actor=actor,
            verb="linked",
            changes={kind: [None, target.number]},
            reason=reason,
        )
        event_record(
            ticket=target,
            actor=actor,
            verb="linked",
            changes={f"{kind}_by": [None, source.number]},
            reason=reason,
        )
    return link


@transaction.atomic
def ticket_link(*, ticket_id: int, target_id: int, kind: str, actor: User) -> TicketLink:
    require_staff(actor, gettext_noop("link tickets"))
    source = ticket_for_update(ticket_id=ticket_id, actor=actor)
    target = ticket_for_update(ticket_id=target_id, actor=actor)
    return link_create(source=source, target=target, kind=kind, actor=actor)


@transaction.atomic
def ticket_merge(*, ticket_id: int, into_id: int, actor: User) -> Ticket:
    """Merge a duplicate into another ticket: its conversation and watchers move over,
    it is linked as a duplicate and closed. Worklogs stay where the work was logged."""
    require_staff(actor, gettext_noop("merge tickets"))
    first, second = sorted([ticket_id, into_id])  # lock in id order: no deadlock
    locked = {t: ticket_for_update(ticket_id=t, actor=actor) for t in (first, second)}
    source, target = locked[ticket_id], locked[into_id]
    if source.pk == target.pk:
        raise InvalidInput(_("a ticket cannot be merged into itself"), field="into")
    if source.status == Status.CLOSED or target.status == Status.CLOSED:
        raise InvalidTransition(_("closed tickets cannot be merged"))
    moved = source.articles.update(ticket=target)
    target.watchers.add(source.requester, *source.watchers.all())
    link_create(source=source, target=target, kind=LinkKind.DUPLICATE_OF, actor=actor)
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    event_record(
        ticket=target,
        actor=actor,
        verb="merged",
        changes={"merged_from": [None, source.number], "articles": [None, moved]},
    )
    event_record(
        ticket=source, actor=actor, verb="merged", changes={"merged_into": [None, target.number]}
    )
    from expediter.tickets.services.tickets import status_change

    if source.status != Status.RESOLVED:
        status_change(source, status=Status.RESOLVED, actor=actor, reason="merged")
    status_change(source, status=Status.CLOSED, actor=actor, reason=f"merged into #{target.number}")
    search_reindex(target)
    return target
