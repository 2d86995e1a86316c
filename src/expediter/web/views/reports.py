"""Time worked per agent over a period."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from expediter.staff import policies
from expediter.tickets.selectors import worklog_report
from expediter.web.forms.reports import PeriodForm
from expediter.web.views._support import agent_required, current_user


@agent_required
def worklog_report_page(request: HttpRequest) -> HttpResponse:
    """Leads and admins see every agent; an agent sees their own line only."""
    user = current_user(request)
    if "start" in request.GET or "end" in request.GET:
        form = PeriodForm(request.GET)
    else:
        form = PeriodForm({k: v.isoformat() for k, v in PeriodForm.default_period().items()})
    rows = []
    if form.is_valid():
        start, end = form.bounds()
        rows = worklog_report(user=user, start=start, end=end)
        if not policies.sees_everything(user):
            rows = [row for row in rows if row.agent_id == user.pk]
    context = {
        "form": form,
        "rows": rows,
        "total_minutes": sum(row.minutes for row in rows),
        "everyone": policies.sees_everything(user),
    }
    return render(
        request, "web/reports/worklog.html", context, status=200 if form.is_valid() else 422
    )
