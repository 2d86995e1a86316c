"""The agent's ticket page and the actions on it, one URL per action.

Each action posts one form to one service. htmx gets the refreshed ticket
panel back (or the refused form in place); a plain POST is redirected to
the page, so everything also works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from expediter.core.errors import DomainError, InvalidTransition
from expediter.mail.selectors import reply_splits
from expediter.tickets import selectors
from expediter.tickets import services as tickets
from expediter.tickets.models import Status, Ticket
from expediter.tickets.selectors import linked_tickets, visible_ticket_id
from expediter.web.downloads import attachment_response
from expediter.web.forms.fields import as_new_attachments
from expediter.web.forms.ticket import (
    LinkForm,
    MergeForm,
    ReplyForm,
    TagsForm,
    TicketUpdateForm,
    WorklogForm,
)
from expediter.web.templatetags.desk import status_label
from expediter.web.views._support import (
    Explain,
    FormFailure,
    agent_required,
    attempt,
    current_user,
    is_htmx,
    member_required,
    redirect_to,
    render_form_failure,
)

TEMPLATE = "web/ticket/detail.html"

FAILURES = {
    "reply_form": FormFailure("reply_form", "reply-form"),
    "update_form": FormFailure("update_form", "update-form"),
    "tags_form": FormFailure("tags_form", "tags-form"),
    "link_form": FormFailure("link_form", "link-form"),
    "merge_form": FormFailure("merge_form", "merge-form"),
    "worklog_form": FormFailure("worklog_form", "worklog-form"),
}

# Service field names that differ from the form's.
FIELD_NAMES = {"assignee_id": "assignee", "target": "number", "into": "number"}
FormT = TypeVar("FormT", bound=Form)


def _page_context(request: HttpRequest, ticket_id: int, **forms: Form) -> dict[str, Any]:
    """Everything the ticket page shows, with fresh forms unless given bound ones."""
    user = current_user(request)
    ticket = selectors.ticket_get_visible(user=user, ticket_id=ticket_id)
    worklogs = list(
        selectors.worklog_list_visible(user=user).filter(ticket=ticket).order_by("at", "id")
    )
    tag_names = list(ticket.tags.order_by("name").values_list("name", flat=True))
    context: dict[str, Any] = {
        "ticket": ticket,
        "articles": (articles := list(selectors.article_list_visible(user=user, ticket=ticket))),
        "splits": reply_splits(articles=articles),
        "events": selectors.event_list(ticket=ticket),
        "links": linked_tickets(user=user, ticket=ticket),
        "tag_names": tag_names,
        "worklogs": worklogs,
        "worklog_minutes": sum(entry.minutes for entry in worklogs),
        "reply_form": ReplyForm(),
        "update_form": TicketUpdateForm(ticket=ticket),
        "tags_form": TagsForm(initial={"tags": ", ".join(tag_names)}),
        "link_form": LinkForm(),
        "merge_form": MergeForm(),
        "worklog_form": WorklogForm(),
        "htmx": is_htmx(request),
    }
    context.update(forms)
    return context


def _done(request: HttpRequest, ticket_id: int, message: str) -> HttpResponse:
    messages.success(request, message)
    if is_htmx(request):
        return render(request, f"{TEMPLATE}#panel", _page_context(request, ticket_id))
    return HttpResponseRedirect(reverse("web:ticket", args=[ticket_id]))


def _refused(request: HttpRequest, ticket_id: int, name: str, form: Form) -> HttpResponse:
    return render_form_failure(
        request,
        template=TEMPLATE,
        failure=FAILURES[name],
        context=_page_context(request, ticket_id, **{name: form}),
    )


def _side_form(
    request: HttpRequest,
    ticket_id: int,
    form: FormT,
    name: str,
    action: Callable[[FormT], object],
    done_message: str,
    field_names: Mapping[str, str] | None = None,
) -> HttpResponse:
    """One of the ticket page's small forms: validate, call its service, answer.

    ``name`` is the form's key in the page context and in ``FAILURES``.
    """
    if form.is_valid() and attempt(form, lambda: action(form), field_names) is not None:
        return _done(request, ticket_id, done_message)
    return _refused(request, ticket_id, name, form)


@agent_required
@require_GET
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return render(request, TEMPLATE, _page_context(request, ticket_id))


@agent_required
@require_POST
@vary_on_headers("HX-Request")
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        internal = form.cleaned_data["internal"]
        article = attempt(
            form,
            lambda: tickets.article_add(
                ticket_id=ticket_id,
                author=user,
                actor=user,
                body=form.cleaned_data["body"],
                internal=internal,
                attachments=as_new_attachments(form.cleaned_data["attachments"]),
            ),
        )
        if article is not None:
            return _done(request, ticket_id, _("Note added.") if internal else _("Reply sent."))
    return _refused(request, ticket_id, "reply_form", form)


def _transition_refusal(ticket: Ticket, changes: tickets.TicketChanges) -> Explain:
    """The workflow's refusal in the reader's language, naming both statuses."""

    def explain(error: DomainError) -> str:
        if not isinstance(error, InvalidTransition):
            return error.detail
        if ticket.status == Status.CLOSED:
            return _("A closed ticket cannot be changed any more.")
        if "status" in changes.given and changes.status:
            return _("A ticket that is “%(current)s” cannot become “%(new)s”.") % {
                "current": status_label(ticket.status),
                "new": status_label(changes.status),
            }
        return error.detail

    return explain


@agent_required
@require_POST
@vary_on_headers("HX-Request")
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    ticket = selectors.ticket_get_visible(user=user, ticket_id=ticket_id)
    form = TicketUpdateForm(request.POST, ticket=ticket)
    if form.is_valid():
        changes = form.changes()
        updated = attempt(
            form,
            lambda: tickets.ticket_update(ticket_id=ticket_id, actor=user, changes=changes),
            FIELD_NAMES,
            explain=_transition_refusal(ticket, changes),
        )
        if updated is not None:
            return _done(request, ticket_id, _("Ticket updated."))
    return _refused(request, ticket_id, "update_form", form)


@agent_required
@require_POST
@vary_on_headers("HX-Request")
def ticket_tags(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    return _side_form(
        request,
        ticket_id,
        TagsForm(request.POST),
        "tags_form",
        lambda form: tickets.ticket_set_tags(ticket_id=ticket_id, tags=form.tag_list(), actor=user),
        _("Tags saved."),
    )


@agent_required
@require_POST
@vary_on_headers("HX-Request")
def ticket_link(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    return _side_form(
        request,
        ticket_id,
        LinkForm(request.POST),
        "link_form",
        lambda form: tickets.ticket_link(
            ticket_id=ticket_id,
            target_id=visible_ticket_id(user=user, number=form.cleaned_data["number"]),
            kind=form.cleaned_data["kind"],
            actor=user,
        ),
        _("Tickets linked."),
        FIELD_NAMES,
    )


@agent_required
@require_POST
@vary_on_headers("HX-Request")
def ticket_merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    form = MergeForm(request.POST)
    if form.is_valid():
        number = form.cleaned_data["number"]
        target = attempt(
            form,
            lambda: tickets.ticket_merge(
                ticket_id=ticket_id,
                into_id=visible_ticket_id(user=user, number=number),
                actor=user,
            ),
            FIELD_NAMES,
        )
        if target is not None:
            messages.success(request, _("Merged into #%(number)s.") % {"number": number})
            return redirect_to(request, reverse("web:ticket", args=[target.pk]))
    return _refused(request, ticket_id, "merge_form", form)


@agent_required
@require_POST
@vary_on_headers("HX-Request")
def ticket_worklog(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    return _side_form(
        request,
        ticket_id,
        WorklogForm(request.POST),
        "worklog_form",
        lambda form: tickets.worklog_add(
            ticket_id=ticket_id,
            agent=user,
            minutes=form.cleaned_data["minutes"],
            note=form.cleaned_data["note"],
        ),
        _("Work logged."),
    )


@member_required
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    """Bytes of an attachment the person may see; harmless images may open inline."""
    attachment = selectors.attachment_get_visible(
        user=current_user(request), attachment_id=attachment_id
    )
    return attachment_response(attachment, inline=request.GET.get("inline") == "1")
