"""Phone: log a call in two clicks, and the list of callers waiting for a call back."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from expediter.core.errors import InvalidInput
from expediter.telephony import selectors as calls
from expediter.telephony.services import call_log, call_mark_called_back
from expediter.tickets.models import OPEN_STATUSES
from expediter.tickets.selectors import ticket_visible_queryset, visible_ticket_id
from expediter.web.views._support import (
    agent_required,
    attempt,
    current_user,
    redirect_to,
)


class CallForm(forms.Form):
    caller_number = forms.CharField(label=gettext_lazy("Caller's number"), max_length=40)
    ticket_number = forms.IntegerField(label=gettext_lazy("Ticket number"), required=False)
    subject = forms.CharField(
        label=gettext_lazy("Subject (new ticket)"), max_length=120, required=False
    )
    summary = forms.CharField(label=gettext_lazy("What was said"), widget=forms.Textarea)
    minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"), min_value=0, max_value=600, initial=5
    )


def _page(request: HttpRequest, form: CallForm, status: int = 200) -> HttpResponse:
    user = current_user(request)
    context = {"form": form, "callbacks": list(calls.calls_awaiting_callback(user=user)[:100])}
    return render(request, "web/calls/calls.html", context, status=status)


@agent_required
def calls_page(request: HttpRequest) -> HttpResponse:
    return _page(request, CallForm())


@agent_required
def caller_lookup(request: HttpRequest) -> HttpResponse:
    """htmx: who is calling, and which of their tickets are open (to note the call on)."""
    user = current_user(request)
    person = calls.caller_lookup(number=request.GET.get("caller_number", ""))
    tickets = []
    if person is not None:
        tickets = list(
            ticket_visible_queryset(user)
            .filter(requester=person, status__in=OPEN_STATUSES)
            .order_by("-updated_at")[:10]
        )
    return render(request, "web/calls/_caller.html", {"person": person, "tickets": tickets})


@agent_required
@require_POST
def call_log_view(request: HttpRequest) -> HttpResponse:
    form = CallForm(request.POST)
    user = current_user(request)
    if form.is_valid():
        data = form.cleaned_data
        ticket_id = None
        if data["ticket_number"]:
            try:
                ticket_id = visible_ticket_id(user=user, number=data["ticket_number"])
            except InvalidInput as error:
                form.add_error("ticket_number", error.detail)
                return _page(request, form, status=422)
        call = attempt(
            form,
            lambda: call_log(
                agent=user,
                caller_number=data["caller_number"],
                summary=data["summary"],
                duration_seconds=(data["minutes"] or 0) * 60,
                ticket_id=ticket_id,
                subject=data["subject"],
            ),
        )
        if call is not None and call.ticket_id:
            messages.success(request, _("Call recorded."))
            return redirect_to(request, reverse("web:ticket", args=[call.ticket_id]))
    return _page(request, form, status=422)


@agent_required
@require_POST
def call_called_back(request: HttpRequest, call_id: int) -> HttpResponse:
    call_mark_called_back(
        call_id=call_id, agent=current_user(request), note=request.POST.get("note", "")
    )
    messages.success(request, _("Marked as called back."))
    return redirect_to(request, reverse("web:calls"))
