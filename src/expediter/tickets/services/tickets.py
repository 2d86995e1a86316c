"""Creating tickets and changing their fields, status and owner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from expediter.core import clock, hooks
from expediter.core.errors import InvalidInput, InvalidTransition, NotPermitted
from expediter.core.memo import SharedMemo
from expediter.core.rows import executed, insert_prepared, prepare
from expediter.staff import policies
from expediter.staff.models import STAFF_ROLES, Role, Team, User
from expediter.tickets.models import (
    OPEN_STATUSES,
    Article,
    Channel,
    PriorityRule,
    Service,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketNumber,
    TicketType,
)
from expediter.tickets.priority import priority_for
from expediter.tickets.search import search_index_new
from expediter.tickets.services._common import (
    event_record,
    event_write,
    require_staff,
    ticket_for_update,
    user_ref,
)
from expediter.tickets.services.attachments import NewAttachment, attachments_store
from expediter.tickets.services.rules import manual_assignment_warnings

SUBJECT_MAX = 250
P = ParamSpec("P")


def _allocate_number() -> int:
    """Next ticket number with a single atomic UPDATE (no gaps under concurrency)."""
    sql = "UPDATE tickets_ticketnumber SET value = value + 1 WHERE id = 1 RETURNING value"
    with executed(sql, ()) as cursor:
        row = cursor.fetchone()
    if row is not None:
        return int(row[0])
    highest = Ticket.objects.order_by("-number").values_list("number", flat=True).first() or 0
    TicketNumber.objects.create(id=1, value=highest + 1)
    return highest + 1


PRIORITY_MATRIX = SharedMemo("expediter.tickets.priority-matrix")
"""The configured matrix, kept per process; every save or delete of a rule drops it
(signals connected in ``tickets.apps``)."""


def matrix_priority(impact: int, urgency: int) -> int:
    return priority_for(impact, urgency, PRIORITY_MATRIX.get("overrides", _matrix_overrides))


def _matrix_overrides() -> dict[tuple[int, int], int]:
    rules = PriorityRule.objects.order_by().values_list("impact", "urgency", "priority")
    return {(impact, urgency): priority for impact, urgency, priority in rules}


def priority_matrix_changed(**_: Any) -> None:
    """Receiver of the saves and deletes of priority rules."""
    PRIORITY_MATRIX.changed()


def _check_level(value: int, name: str) -> int:
    if not isinstance(value, int) or not 1 <= value <= 4:
        raise InvalidInput(
            _("%(field)s must be an integer from 1 to 4") % {"field": name}, field=name
        )
    return value


def service_by_name(name: str | None) -> Service | None:
    if not name:
        return None
    service = Service.objects.filter(name__iexact=name.strip(), is_active=True).first()
    if service is None:
        raise InvalidInput(_("no service named '%(name)s'") % {"name": name}, field="service")
    return service


def team_by_name(name: str | None) -> Team | None:
    if not name:
        return None
    team = Team.objects.filter(name__iexact=name.strip()).first()
    if team is None:
        raise InvalidInput(_("no team named '%(name)s'") % {"name": name}, field="team")
    return team


@dataclass(frozen=True)
class Opened:
    """A ticket just opened and the first article of its conversation."""

    ticket: Ticket
    article: Article


def ticket_open(
    *,
    requester: User,
    actor: User | None,
    subject: str,
    description: str,
    service: str | None = None,
    impact: int = 3,
    urgency: int = 3,
    channel: str = Channel.WEB,
    ticket_type: str = TicketType.INCIDENT,
    html: str | None = None,
    attachments: Sequence[NewAttachment] = (),
    from_email: str = "",
    from_name: str = "",
    team: str | None = None,
) -> Opened:
    """Open a request; its description becomes the first article of the conversation.

    Both are returned: a channel that adds to the article (mail's attachments)
    has it without reading it back.

    The checks and lookups run before the transaction: on SQLite a write
    transaction holds the database's one write lock, which every other
    writer waits for.
    """
    subject = " ".join((subject or "").split())
    if not subject:
        raise InvalidInput(_("a ticket needs a subject"), field="subject")
    if len(subject) > SUBJECT_MAX:
        raise InvalidInput(
            _("subject is longer than %(max)s characters") % {"max": SUBJECT_MAX}, field="subject"
        )
    if channel not in Channel.values:
        raise InvalidInput(
            _("unknown channel '%(channel)s'") % {"channel": channel}, field="channel"
        )
    if ticket_type not in TicketType.values:
        raise InvalidInput(_("unknown type '%(type)s'") % {"type": ticket_type}, field="type")
    _check_level(impact, "impact")
    _check_level(urgency, "urgency")
    if actor is not None and actor.role == Role.REQUESTER and actor.pk != requester.pk:
        raise NotPermitted(_("requesters open tickets for themselves only"))
    chosen_service = service_by_name(service)
    chosen_team = team_by_name(team) or (chosen_service.team if chosen_service else None)
    ticket = Ticket(
        type=ticket_type,
        subject=subject,
        description=description or "",
        impact=impact,
        urgency=urgency,
        priority=matrix_priority(impact, urgency),
        channel=channel,
        requester=requester,
        organisation_id=requester.organisation_id,
        team=chosen_team,
        service=chosen_service,
    )
    # The request is accepted now: its SLA runs from here, not from whenever
    # the write lock comes free.
    now = clock.now()
    ticket.created_at = ticket.updated_at = now
    changes: dict[str, list[Any]] = {
        "status": [None, ticket.status],
        "priority": [None, ticket.priority],
        "team": [None, chosen_team.name if chosen_team else None],
        "service": [None, chosen_service.name if chosen_service else None],
        "channel": [None, channel],
    }
    # Listeners fill in what the row carries from the start (the SLA due time).
    # They only compute, so they run before the transaction, not while every
    # other writer waits.
    hooks.announce("ticket.opening", ticket=ticket, at=now, changes=changes)
    article = Article(
        ticket=ticket,
        author=requester,
        from_name=from_name or requester.name,
        from_email=from_email or requester.email,
        channel=channel,
        body=description or "",
        html=html,
        created_at=now,
    )
    # Every value is worked out before the transaction but the number and the
    # ticket's id, which only exist inside it.
    ticket_row = prepare([ticket], later=("number",))
    article_row = prepare([article], later=("ticket_id",))
    created = prepare(
        [TicketEvent(ticket=ticket, actor=actor, verb="created", changes=changes, at=now)],
        later=("ticket_id",),
    )
    with transaction.atomic():
        ticket.number = _allocate_number()
        insert_prepared(ticket_row)
        insert_prepared(article_row)
        attachments_store(article=article, attachments=attachments)
        search_index_new(ticket)
        event_write(ticket, created)
    return Opened(ticket, article)


def _ticket_only(open_: Callable[P, Opened]) -> Callable[P, Ticket]:
    """``ticket_create`` takes exactly what ``ticket_open`` takes (and is checked so)."""

    def ticket_create(*args: P.args, **kwargs: P.kwargs) -> Ticket:
        """Open a request (:func:`ticket_open`) when only the new ticket is wanted."""
        return open_(*args, **kwargs).ticket

    return ticket_create


ticket_create = _ticket_only(ticket_open)


def _allowed(current: str, new: str) -> bool:
    if current == Status.CLOSED:
        return False
    if current == Status.RESOLVED:
        return new in (Status.CLOSED, Status.IN_PROGRESS)
    return new in OPEN_STATUSES or new == Status.RESOLVED


def status_change(
    ticket: Ticket, *, status: str, actor: User | None, reason: str | None = None
) -> None:
    """Move a locked ticket to ``status`` (the workflow's one gate) and record it."""
    if status not in Status.values:
        raise InvalidInput(_("unknown status '%(status)s'") % {"status": status}, field="status")
    if status == ticket.status:
        return
    if not _allowed(ticket.status, status):
        raise InvalidTransition(
            _("a %(current)s ticket cannot become %(new)s")
            % {"current": ticket.status, "new": status}
        )
    if status == Status.ASSIGNED and ticket.assignee_id is None:
        raise InvalidTransition(_("a ticket cannot be assigned without an assignee"))
    before = ticket.status
    now = clock.now()
    ticket.status = status
    ticket.updated_at = now
    if status == Status.RESOLVED:
        ticket.resolved_at = now
    elif status == Status.CLOSED:
        ticket.closed_at = now
    elif before == Status.RESOLVED:
        ticket.resolved_at = None
    ticket.save(update_fields=["status", "updated_at", "resolved_at", "closed_at"])
    verb = "reopened" if before == Status.RESOLVED and status in OPEN_STATUSES else "status_changed"
    event_record(
        ticket=ticket,
        actor=actor,
        verb=verb,
        changes={"status": [before, status]},
        reason=reason,
        at=now,
    )


@transaction.atomic
def ticket_set_status(
    *, ticket_id: int, status: str, actor: User | None, reason: str | None = None
) -> Ticket:
    ticket = ticket_for_update(ticket_id=ticket_id, actor=actor)
    require_staff(actor, gettext_noop("change a ticket's status"))
    status_change(ticket, status=status, actor=actor, reason=reason)
    return ticket


def assignee_change(
    ticket: Ticket,
    *,
    assignee: User | None,
    actor: User | None,
    reason: str | None = None,
    move_status: bool = True,
) -> None:
    """Set or clear the owner of a locked ticket, following the contract's rules."""
    if assignee is not None and (not assignee.is_active or assignee.role not in STAFF_ROLES):
        raise InvalidInput(_("the assignee must be an active agent"), field="assignee_id")
    if ticket.status == Status.CLOSED and assignee is not None:
        raise InvalidTransition(_("a closed ticket cannot be reassigned"))
    before = ticket.assignee
    if (before.pk if before else None) == (assignee.pk if assignee else None):
        return
    if actor is not None and assignee is not None:
        warnings = manual_assignment_warnings(ticket=ticket, agent=assignee)
        if warnings:
            reason = "; ".join(
                filter(None, [reason, "assigned by hand despite: " + ", ".join(warnings)])
            )
    now = clock.now()
    ticket.assignee = assignee
    ticket.updated_at = now
    if assignee is not None and ticket.team_id is None:
        primary = assignee.memberships.order_by("-is_primary", "id").first()
        if primary is not None:
            ticket.team_id = primary.team_id
            event_record(
                ticket=ticket,
                actor=actor,
                verb="team_changed",
                changes={"team": [None, primary.team.name]},
                reason="a ticket with no team joins its assignee's team",
                at=now,
            )
    ticket.save(update_fields=["assignee", "updated_at", "team"])
    event_record(
        ticket=ticket,
        actor=actor,
        verb="assigned" if assignee else "unassigned",
        changes={"assignee": [user_ref(before), user_ref(assignee)]},
        reason=reason,
        at=now,
    )
    if move_status:
        if assignee is not None and ticket.status == Status.NEW:
            status_change(ticket, status=Status.ASSIGNED, actor=actor)
        elif assignee is None and ticket.status == Status.ASSIGNED:
            status_change(ticket, status=Status.NEW, actor=actor, reason="unassigned")


@transaction.atomic
def ticket_assign(
    *,
    ticket_id: int,
    assignee: User | None,
    actor: User | None,
    reason: str | None = None,
) -> Ticket:
    """Assign (or with ``None`` unassign) a ticket; by hand, rules broken are recorded."""
    ticket = ticket_for_update(ticket_id=ticket_id, actor=actor)
    require_staff(actor, gettext_noop("assign tickets"))
    assignee_change(ticket, assignee=assignee, actor=actor, reason=reason)
    return ticket


def _impact_urgency_change(
    ticket: Ticket, *, impact: int, urgency: int, actor: User | None
) -> None:
    _check_level(impact, "impact")
    _check_level(urgency, "urgency")
    if impact == ticket.impact and urgency == ticket.urgency:
        return
    priority = matrix_priority(impact, urgency)
    changes: dict[str, list[Any]] = {}
    if impact != ticket.impact:
        changes["impact"] = [ticket.impact, impact]
    if urgency != ticket.urgency:
        changes["urgency"] = [ticket.urgency, urgency]
    if priority != ticket.priority:
        changes["priority"] = [ticket.priority, priority]
    if ticket.priority_overridden:
        changes["priority_overridden"] = [True, False]
    ticket.impact, ticket.urgency, ticket.priority = impact, urgency, priority
    ticket.priority_overridden = False
    ticket.updated_at = clock.now()
    ticket.save(
        update_fields=["impact", "urgency", "priority", "priority_overridden", "updated_at"]
    )
    event_record(ticket=ticket, actor=actor, verb="priority_changed", changes=changes)


def _priority_override(
    ticket: Ticket, *, priority: int, actor: User | None, reason: str | None = None
) -> None:
    _check_level(priority, "priority")
    if priority == ticket.priority and ticket.priority_overridden:
        return
    before = ticket.priority
    ticket.priority = priority
    ticket.priority_overridden = True
    ticket.updated_at = clock.now()
    ticket.save(update_fields=["priority", "priority_overridden", "updated_at"])
    event_record(
        ticket=ticket,
        actor=actor,
        verb="priority_changed",
        changes={"priority": [before, priority], "priority_overridden": [False, True]},
        reason=reason,
    )


@transaction.atomic
def ticket_raise_priority(
    *, ticket_id: int, priority: int, actor: User | None, reason: str
) -> Ticket:
    """Override the priority (escalations use this with a reason)."""
    ticket = ticket_for_update(ticket_id=ticket_id, actor=actor)
    require_staff(actor, gettext_noop("change a ticket's priority"))
    _priority_override(ticket, priority=priority, actor=actor, reason=reason)
    return ticket


def _team_change(
    ticket: Ticket, *, team: Team | None, actor: User | None, reason: str | None
) -> None:
    if (team.pk if team else None) == ticket.team_id:
        return
    before = ticket.team.name if ticket.team else None
    ticket.team = team
    ticket.updated_at = clock.now()
    ticket.save(update_fields=["team", "updated_at"])
    event_record(
        ticket=ticket,
        actor=actor,
        verb="team_changed",
        changes={"team": [before, team.name if team else None]},
        reason=reason,
    )
    assignee = ticket.assignee
    if (
        assignee is not None
        and team is not None
        and not assignee.memberships.filter(team=team).exists()
    ):
        assignee_change(
            ticket,
            assignee=None,
            actor=actor,
            reason=f"{assignee.name} is not a member of {team.name}",
        )


def _service_change(ticket: Ticket, *, service: Service | None, actor: User | None) -> None:
    if (service.pk if service else None) == ticket.service_id:
        return
    before = ticket.service.name if ticket.service else None
    ticket.service = service
    ticket.updated_at = clock.now()
    ticket.save(update_fields=["service", "updated_at"])
    event_record(
        ticket=ticket,
        actor=actor,
        verb="service_changed",
        changes={"service": [before, service.name if service else None]},
    )


@dataclass(frozen=True)
class TicketChanges:
    """The fields a PATCH carries; ``given`` says which were present (null included)."""

    given: frozenset[str] = field(default_factory=frozenset)
    status: str | None = None
    impact: int | None = None
    urgency: int | None = None
    priority: int | None = None
    assignee_id: int | None = None
    team: str | None = None
    service: str | None = None


@transaction.atomic
def ticket_update(*, ticket_id: int, actor: User, changes: TicketChanges) -> Ticket:
    """Apply several changes atomically in the contract's order (assignee before status)."""
    ticket = ticket_for_update(ticket_id=ticket_id, actor=actor)
    if not changes.given:
        return ticket
    require_staff(actor, gettext_noop("change tickets"))
    given = changes.given
    if "impact" in given or "urgency" in given:
        _impact_urgency_change(
            ticket,
            impact=changes.impact if "impact" in given and changes.impact else ticket.impact,
            urgency=changes.urgency if "urgency" in given and changes.urgency else ticket.urgency,
            actor=actor,
        )
    elif "priority" in given and changes.priority is not None:
        _priority_override(ticket, priority=changes.priority, actor=actor)
    if "service" in given:
        service = service_by_name(changes.service)
        _service_change(ticket, service=service, actor=actor)
        if "team" not in given and service is not None and service.team_id:
            _team_change(ticket, team=service.team, actor=actor, reason=f"service {service.name}")
    if "team" in given:
        _team_change(ticket, team=team_by_name(changes.team), actor=actor, reason=None)
    if "assignee_id" in given:
        assignee = None
        if changes.assignee_id is not None:
            assignee = User.objects.filter(pk=changes.assignee_id).first()
            if assignee is None:
                raise InvalidInput(_("no such agent"), field="assignee_id")
        assignee_change(
            ticket,
            assignee=assignee,
            actor=actor,
            move_status="status" not in given,
        )
    if "status" in given:
        if changes.status is None:
            raise InvalidInput(_("status cannot be null"), field="status")
        status_change(ticket, status=changes.status, actor=actor)
    ticket.refresh_from_db()
    return ticket


def ticket_add_watcher(
    *, ticket_id: int, watcher: User, actor: User | None, reason: str | None = None
) -> Ticket:
    return ticket_add_watchers(ticket_id=ticket_id, watchers=[watcher], actor=actor, reason=reason)


@transaction.atomic
def ticket_add_watchers(
    *, ticket_id: int, watchers: Sequence[User], actor: User | None, reason: str | None = None
) -> Ticket:
    """Add each person not watching yet (nor the requester), one event each.

    Everyone copied on an email is added at once: the ticket is locked and
    its watchers read once, whatever the number of people.
    """
    ticket = ticket_for_update(ticket_id=ticket_id, actor=actor)
    people = {w.pk: w for w in watchers if w.pk != ticket.requester_id}
    if not people:
        return ticket
    watching = set(ticket.watchers.filter(pk__in=people).values_list("pk", flat=True))
    new = [person for pk, person in people.items() if pk not in watching]
    if not new:
        return ticket
    ticket.watchers.add(*new)
    for person in new:
        event_record(
            ticket=ticket,
            actor=actor,
            verb="watcher_added",
            changes={"watchers": [None, user_ref(person)]},
            reason=reason,
        )
    return ticket


@transaction.atomic
def ticket_set_tags(*, ticket_id: int, tags: Sequence[str], actor: User) -> Ticket:
    ticket = ticket_for_update(ticket_id=ticket_id, actor=actor)
    require_staff(actor, gettext_noop("tag tickets"))
    names = sorted({t.strip().lower() for t in tags if t.strip()})
    before = sorted(ticket.tags.values_list("name", flat=True))
    if names == before:
        return ticket
    ticket.tags.set([Tag.objects.get_or_create(name=n)[0] for n in names])
    event_record(ticket=ticket, actor=actor, verb="tags_changed", changes={"tags": [before, names]})
    return ticket


def reopen_on_requester_reply(ticket: Ticket, *, actor: User | None) -> None:
    """A requester's reply puts a waiting or resolved ticket back in the work."""
    if ticket.status in ("waiting_requester", "waiting_third_party", Status.RESOLVED):
        target = Status.IN_PROGRESS if ticket.assignee_id else Status.NEW
        if ticket.status == Status.RESOLVED and target == Status.NEW:
            # resolved may only go back to in_progress; an unowned ticket then returns to new
            status_change(
                ticket, status=Status.IN_PROGRESS, actor=actor, reason="the requester replied"
            )
            status_change(
                ticket, status=Status.NEW, actor=actor, reason="reopened without an assignee"
            )
            return
        status_change(ticket, status=target, actor=actor, reason="the requester replied")


def ticket_touch(ticket: Ticket, *, at: dt.datetime | None = None) -> None:
    ticket.updated_at = at or clock.now()
    ticket.save(update_fields=["updated_at"])


def is_staff_user(user: User | None) -> bool:
    return user is not None and policies.is_agent(user)
