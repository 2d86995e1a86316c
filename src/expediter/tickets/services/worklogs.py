"""Time spent: who worked how many minutes on which ticket."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from expediter.core import clock
from expediter.core.errors import InvalidInput
from expediter.staff.models import User
from expediter.tickets.models import Worklog
from expediter.tickets.services._common import event_record, require_staff, ticket_for_update

MAX_MINUTES = 24 * 60


@transaction.atomic
def worklog_add(
    *,
    ticket_id: int,
    agent: User,
    minutes: int,
    note: str = "",
    at: dt.datetime | None = None,
) -> Worklog:
    require_staff(agent, gettext_noop("log work"))
    ticket = ticket_for_update(ticket_id=ticket_id, actor=agent)
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise InvalidInput(
            _("minutes must be from 1 to %(max)s") % {"max": MAX_MINUTES}, field="minutes"
        )
    worklog = Worklog.objects.create(
        ticket=ticket, agent=agent, minutes=minutes, note=note or "", at=at or clock.now()
    )
    event_record(
        ticket=ticket,
        actor=agent,
        verb="worklog_added",
        changes={"minutes": [None, minutes], "worklog": [None, worklog.pk]},
    )
    return worklog
