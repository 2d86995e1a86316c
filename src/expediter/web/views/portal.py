"""The requester's portal: submit a request, follow it, answer the desk.

Requesters only ever see public replies: the articles come from the same
selector as everywhere else, which leaves internal notes out for them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from expediter.mail.selectors import reply_splits
from expediter.staff import policies
from expediter.tickets import selectors
from expediter.tickets import services as tickets
from expediter.tickets.models import Channel
from expediter.web.forms.fields import as_new_attachments
from expediter.web.forms.portal import PortalReplyForm, RequestForm
from expediter.web.views._support import (
    FormFailure,
    attempt,
    current_user,
    is_htmx,
    member_required,
    redirect_to,
    render_form_failure,
)

PAGE_SIZE = 50
DETAIL_TEMPLATE = "web/portal/detail.html"
NEW_TEMPLATE = "web/portal/new.html"


@member_required
def portal_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    requests = selectors.ticket_list_visible_to(
        user=user, filters=selectors.TicketFilters(requester_id=user.pk)
    ).order_by("-created_at", "-id")
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/portal/list.html", {"page": page})


@member_required
@vary_on_headers("HX-Request")
def portal_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method != "POST":
        return render(request, NEW_TEMPLATE, {"form": RequestForm()})
    form = RequestForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        ticket = attempt(
            form,
            lambda: tickets.ticket_create(
                requester=user,
                actor=user,
                subject=data["subject"],
                description=data["description"],
                service=data["service"].name if data["service"] else None,
                impact=data["impact"],
                urgency=data["urgency"],
                channel=Channel.WEB,
                attachments=as_new_attachments(data["attachments"]),
            ),
        )
        if ticket is not None:
            messages.success(
                request, _("Request #%(number)s received.") % {"number": ticket.number}
            )
            return redirect_to(request, reverse("web:portal_ticket", args=[ticket.pk]))
    return render_form_failure(
        request,
        template=NEW_TEMPLATE,
        failure=FormFailure("request_form", "request-form"),
        context={"form": form},
    )


def _detail_context(request: HttpRequest, ticket_id: int, **forms: Any) -> dict[str, Any]:
    user = current_user(request)
    ticket = selectors.ticket_get_visible(user=user, ticket_id=ticket_id)
    context: dict[str, Any] = {
        "ticket": ticket,
        "articles": (articles := list(selectors.article_list_visible(user=user, ticket=ticket))),
        "splits": reply_splits(articles=articles),
        "reply_form": PortalReplyForm(),
        "htmx": is_htmx(request),
    }
    context.update(forms)
    return context


@member_required
def portal_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    if policies.is_agent(current_user(request)):
        return redirect("web:ticket", ticket_id=ticket_id)
    return render(request, DETAIL_TEMPLATE, _detail_context(request, ticket_id))


@member_required
@require_POST
@vary_on_headers("HX-Request")
def portal_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    form = PortalReplyForm(request.POST, request.FILES)
    if form.is_valid():
        article = attempt(
            form,
            lambda: tickets.article_add(
                ticket_id=ticket_id,
                author=user,
                actor=user,
                body=form.cleaned_data["body"],
                attachments=as_new_attachments(form.cleaned_data["attachments"]),
            ),
        )
        if article is not None:
            return _replied(request, ticket_id, article.ticket_id)
    return render_form_failure(
        request,
        template=DETAIL_TEMPLATE,
        failure=FormFailure("reply_form", "reply-form"),
        context=_detail_context(request, ticket_id, reply_form=form),
    )


def _replied(request: HttpRequest, ticket_id: int, answered_id: int) -> HttpResponse:
    """A reply to a closed request opened a new one: that is where to go next."""
    if answered_id != ticket_id:
        messages.info(request, _("That request was closed, so your reply opened a new one."))
        return redirect_to(request, reverse("web:portal_ticket", args=[answered_id]))
    messages.success(request, _("Reply sent."))
    if is_htmx(request):
        return render(request, f"{DETAIL_TEMPLATE}#panel", _detail_context(request, ticket_id))
    return HttpResponseRedirect(reverse("web:portal_ticket", args=[ticket_id]))
