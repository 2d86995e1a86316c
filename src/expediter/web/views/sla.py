"""SLA pages: calendars and policies for administrators, attainment for the staff.

Thin adapters: each view validates a form, calls one service or selector,
and renders; a service's refusal shows on the form.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expediter.sla import exports
from expediter.sla import selectors as sla_selectors
from expediter.sla import services as sla
from expediter.sla.reports import AttainmentReport, sla_attainment_report
from expediter.staff.models import Role
from expediter.web.forms.sla import CalendarForm, PolicyForm, SlaReportForm
from expediter.web.views._support import (
    View,
    agent_required,
    attempt,
    current_user,
    redirect_to,
)


def admin_required(view: View) -> View:
    """Calendars and policies change every ticket's due times: administrators only."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if current_user(request).role != Role.ADMIN:
            raise PermissionDenied(_("This page is for administrators."))
        return view(request, *args, **kwargs)

    return agent_required(wrapper)


# --- calendars ----------------------------------------------------------------


@admin_required
def sla_calendars(request: HttpRequest) -> HttpResponse:
    """The calendars, and a form to add one."""
    form = CalendarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = attempt(form, lambda: sla.calendar_create(spec=form.spec()))
        if created is not None:
            messages.success(request, _("Calendar %(name)s created.") % {"name": created.name})
            return redirect_to(request, reverse("web:sla_calendars"))
    context = {"calendars": sla_selectors.calendar_list(), "form": form}
    status = 422 if request.method == "POST" else 200
    return render(request, "web/sla/calendars.html", context, status=status)


@admin_required
def sla_calendar_edit(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = sla_selectors.calendar_get(calendar_id)
    initial = CalendarForm.initial_from(calendar)
    form = CalendarForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = attempt(
            form, lambda: sla.calendar_update(calendar_id=calendar.pk, spec=form.spec())
        )
        if saved is not None:
            messages.success(request, _("Calendar %(name)s saved.") % {"name": saved.name})
            return redirect_to(request, reverse("web:sla_calendars"))
    context = {"calendar": calendar, "form": form}
    status = 422 if request.method == "POST" else 200
    return render(request, "web/sla/calendar_edit.html", context, status=status)


@admin_required
@require_POST
def sla_calendar_delete(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = sla_selectors.calendar_get(calendar_id)
    form = CalendarForm()

    def delete() -> bool:
        sla.calendar_delete(calendar_id=calendar.pk)
        return True

    if attempt(form, delete):
        messages.success(request, _("Calendar %(name)s deleted.") % {"name": calendar.name})
    else:
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()))
    return redirect_to(request, reverse("web:sla_calendars"))


# --- policies -----------------------------------------------------------------


@admin_required
def sla_policies(request: HttpRequest) -> HttpResponse:
    """The policies, most specific criteria explained, and a form to add one."""
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = attempt(
            form,
            lambda: sla.policy_create(spec=form.spec(), escalations=form.escalations() or ()),
        )
        if created is not None:
            messages.success(request, _("Policy %(name)s created.") % {"name": created.name})
            return redirect_to(request, reverse("web:sla_policies"))
    context = {"policies": sla_selectors.policy_list(), "form": form}
    status = 422 if request.method == "POST" else 200
    return render(request, "web/sla/policies.html", context, status=status)


@admin_required
def sla_policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = sla_selectors.policy_get(policy_id)
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_from(policy))
    if request.method == "POST" and form.is_valid():
        saved = attempt(
            form,
            lambda: sla.policy_update(
                policy_id=policy.pk, spec=form.spec(), escalations=form.escalations()
            ),
        )
        if saved is not None:
            messages.success(request, _("Policy %(name)s saved.") % {"name": saved.name})
            return redirect_to(request, reverse("web:sla_policies"))
    context = {"policy": policy, "form": form}
    status = 422 if request.method == "POST" else 200
    return render(request, "web/sla/policy_edit.html", context, status=status)


@admin_required
@require_POST
def sla_policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = sla_selectors.policy_get(policy_id)
    sla.policy_delete(policy_id=policy.pk)
    messages.success(request, _("Policy %(name)s deleted.") % {"name": policy.name})
    return redirect_to(request, reverse("web:sla_policies"))


# --- the attainment report ----------------------------------------------------


@agent_required
def sla_report(request: HttpRequest) -> HttpResponse:
    """Attainment over the tickets the reader may see, with the breached ones listed."""
    form = _report_form(request)
    report = _report(request, form)
    context = {"form": form, "report": report, "query": request.GET.urlencode()}
    return render(request, "web/sla/report.html", context, status=200 if report else 422)


@agent_required
def sla_report_csv(request: HttpRequest) -> HttpResponse:
    return _csv(request, exports.summary_csv, "sla-attainment.csv")


@agent_required
def sla_report_breached_csv(request: HttpRequest) -> HttpResponse:
    return _csv(request, exports.breached_csv, "sla-breached.csv")


def _report_form(request: HttpRequest) -> SlaReportForm:
    if any(key in request.GET for key in ("start", "end", "group_by")):
        return SlaReportForm({**SlaReportForm.defaults(), **request.GET.dict()})
    return SlaReportForm(SlaReportForm.defaults())


def _report(request: HttpRequest, form: SlaReportForm) -> AttainmentReport | None:
    if not form.is_valid():
        return None
    start, end = form.bounds()
    return attempt(
        form,
        lambda: sla_attainment_report(
            user=current_user(request),
            start=start,
            end=end,
            group_by=form.cleaned_data["group_by"],
        ),
    )


def _csv(request: HttpRequest, export: Any, filename: str) -> HttpResponse:
    form = _report_form(request)
    report = _report(request, form)
    if report is None:
        return HttpResponse(
            " ".join(str(e) for e in form.errors.values()),
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(export(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
