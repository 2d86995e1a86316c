"""Mail pages: quarantine, ignored mail and the outbox for administrators;
notifications and their preferences for everyone; the sign-in link landing page.

Thin adapters: each view calls one service or selector of ``expediter.mail``.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expediter.core.errors import DomainError, NotFound
from expediter.mail import notify, outbox
from expediter.mail import selectors as mail_selectors
from expediter.mail import services as mail_services
from expediter.mail.models import InboundStatus, NotificationKind, OutboundStatus
from expediter.staff.models import Role
from expediter.tickets.storage import blob_read
from expediter.web.views._support import View, current_user, redirect_to

LIST_LIMIT = 200
OUTBOX_TROUBLE = [
    OutboundStatus.FAILED,
    OutboundStatus.RETRYING,
    OutboundStatus.HELD,
    OutboundStatus.SUPPRESSED,
]


def admin_required(view: View) -> View:
    """Raw mail from strangers and everyone's outbound mail: administrators only."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if current_user(request).role != Role.ADMIN:
            raise PermissionDenied(_("This page is for administrators."))
        return view(request, *args, **kwargs)

    return login_required(wrapper)


# --- inbound mail ---------------------------------------------------------------


def _inbound_page(request: HttpRequest, *, status: str) -> HttpResponse:
    rows = mail_selectors.inbound_list(statuses=[status])[:LIST_LIMIT]
    context = {"rows": rows, "status": status, "limit": LIST_LIMIT}
    return render(request, "web/mail/inbound.html", context)


@admin_required
def mail_quarantine(request: HttpRequest) -> HttpResponse:
    return _inbound_page(request, status=InboundStatus.QUARANTINED)


@admin_required
def mail_ignored(request: HttpRequest) -> HttpResponse:
    return _inbound_page(request, status=InboundStatus.IGNORED)


def _back(request: HttpRequest) -> str:
    wanted = request.POST.get("back", "")
    allowed = {reverse("web:mail_quarantine"), reverse("web:mail_ignored")}
    return wanted if wanted in allowed else reverse("web:mail_quarantine")


@admin_required
@require_POST
def mail_inbound_release(request: HttpRequest, inbound_id: int) -> HttpResponse:
    try:
        result = mail_services.inbound_release(inbound_id=inbound_id, actor=current_user(request))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        if result.status == InboundStatus.QUARANTINED:
            messages.error(request, _("Still quarantined: %(reason)s") % {"reason": result.reason})
        else:
            messages.success(request, _("Released: %(status)s.") % {"status": result.status})
    return redirect_to(request, _back(request))


@admin_required
@require_POST
def mail_inbound_delete(request: HttpRequest, inbound_id: int) -> HttpResponse:
    try:
        mail_services.inbound_delete(inbound_id=inbound_id, actor=current_user(request))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Message deleted."))
    return redirect_to(request, _back(request))


@admin_required
def mail_inbound_raw(request: HttpRequest, inbound_id: int) -> HttpResponse:
    """The message exactly as received, as a download (never shown inline)."""
    inbound = mail_selectors.inbound_get(inbound_id=inbound_id)
    if inbound is None:
        raise PermissionDenied(_("No such message."))
    response = HttpResponse(blob_read(inbound.blob), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- outbox ---------------------------------------------------------------------


@admin_required
def mail_outbox(request: HttpRequest) -> HttpResponse:
    wanted = request.GET.get("status", "")
    statuses = [wanted] if wanted in OutboundStatus.values else OUTBOX_TROUBLE
    rows = mail_selectors.outbox_list(statuses=statuses)[:LIST_LIMIT]
    context = {
        "rows": rows,
        "status": wanted,
        "statuses": OutboundStatus.choices,
        "limit": LIST_LIMIT,
    }
    return render(request, "web/mail/outbox.html", context)


@admin_required
@require_POST
def mail_outbox_retry(request: HttpRequest, message_id: int) -> HttpResponse:
    outbox.outbox_retry(message_pk=message_id)
    messages.success(request, _("The message will be sent again."))
    return redirect_to(request, reverse("web:mail_outbox"))


# --- notifications --------------------------------------------------------------


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    rows = mail_selectors.notification_list(user=user)[:LIST_LIMIT]
    return render(request, "web/mail/notifications.html", {"rows": rows})


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    notify.notifications_mark_read(user=current_user(request))
    return redirect_to(request, reverse("web:notification_list"))


class PreferencesForm(forms.Form):
    """Two boxes per kind of notification: by email, in the app."""

    def __init__(self, *args: Any, rows: list[mail_selectors.PreferenceRow], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[f"email_{row.kind}"] = forms.BooleanField(
                required=False, initial=row.email, label=_("By email")
            )
            self.fields[f"app_{row.kind}"] = forms.BooleanField(
                required=False, initial=row.in_app, label=_("In the app")
            )

    def choices(self) -> list[tuple[str, bool, bool]]:
        return [
            (row.kind, self.cleaned_data[f"email_{row.kind}"], self.cleaned_data[f"app_{row.kind}"])
            for row in self.rows
        ]

    def table(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (row.label, self[f"email_{row.kind}"], self[f"app_{row.kind}"]) for row in self.rows
        ]


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    rows = mail_selectors.notification_preferences(user=user)
    form = PreferencesForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        for kind, by_email, in_app in form.choices():
            if kind in NotificationKind.values:
                notify.notification_set_preference(
                    user=user, kind=kind, email=by_email, in_app=in_app
                )
        messages.success(request, _("Preferences saved."))
        return redirect_to(request, reverse("web:notification_preferences"))
    return render(request, "web/mail/preferences.html", {"form": form})


# --- sign-in links --------------------------------------------------------------


def magic_login(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links too); only the POST signs in."""
    try:
        if request.method != "POST":
            link = mail_services.magic_link_peek(token=token)
            return render(request, "web/mail/magic.html", {"link": link, "token": token})
        link = mail_services.magic_link_redeem(token=token)
    except NotFound:
        return render(request, "web/mail/magic_expired.html", status=410)
    login(request, link.user, backend="expediter.staff.auth.EmailBackend")
    if link.ticket_id is not None:
        return redirect_to(request, reverse("web:portal_ticket", args=[link.ticket_id]))
    return redirect_to(request, reverse("web:portal"))
