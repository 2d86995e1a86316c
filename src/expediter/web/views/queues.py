"""The agent's queues: what to work on next.

A list page costs the same number of queries whatever its length: the
count, the page's keys in queue order, the page's rows with what they show
joined, and their SLA badges.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.vary import vary_on_headers

from expediter.sla.selectors import attach_sla_marks, order_by_urgency
from expediter.staff.models import User
from expediter.staff.selectors import team_ids_of
from expediter.tickets.selectors import TicketFilters, ticket_list_visible_to
from expediter.web.forms.queues import QueueFilterForm
from expediter.web.paging import page_by_keys
from expediter.web.templatetags.queue_rows import ROW_FIELDS
from expediter.web.views._support import agent_required, current_user, is_htmx

PAGE_SIZE = 50
TEMPLATE = "web/queues/queue.html"

QUEUE_TITLES: dict[str, Promise] = {
    "mine": _("My tickets"),
    "team": _("My teams"),
    "unassigned": _("Unassigned"),
    "open": _("All open"),
}

QUEUE_FILTERS: dict[str, Callable[[User], TicketFilters]] = {
    "mine": lambda user: TicketFilters(assignee_id=user.pk),
    "team": lambda user: TicketFilters(team_ids=tuple(team_ids_of(user))),
    "unassigned": lambda user: TicketFilters(unassigned=True),
    "open": lambda user: TicketFilters(),
}


@agent_required
@vary_on_headers("HX-Request")
def queue(request: HttpRequest, name: str) -> HttpResponse:
    if name not in QUEUE_FILTERS:
        raise Http404("no such queue")
    user = current_user(request)
    form = QueueFilterForm(request.GET)
    tickets = ticket_list_visible_to(user=user, filters=form.filters(QUEUE_FILTERS[name](user)))
    ordering = form.ordering()
    tickets = tickets.order_by(*ordering) if ordering else order_by_urgency(tickets)
    page = page_by_keys(tickets.only(*ROW_FIELDS), request.GET.get("page"), PAGE_SIZE)
    attach_sla_marks(list(page.object_list))
    context = {
        "queue": name,
        "queues": QUEUE_TITLES,
        "title": QUEUE_TITLES[name],
        "form": form,
        "page": page,
    }
    template = f"{TEMPLATE}#results" if is_htmx(request) else TEMPLATE
    return render(request, template, context)
