"""SLA pages, the ticket's clock card, and the queue's urgency order and badges."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from tests.factories import make_admin, make_agent, make_lead, make_ticket

from expediter.sla.models import Calendar, Escalation, SlaPolicy
from expediter.sla.selectors import attach_sla_marks, order_by_urgency
from expediter.sla.services import EscalationSpec, PolicySpec, policy_create
from expediter.staff.models import Team
from expediter.tickets.models import Ticket
from expediter.tickets.services import article_add, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def signed_in(user: object) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)  # type: ignore[arg-type]
    return client


def render(text: str, **context: object) -> str:
    return Template("{% load sla %}" + text).render(Context(context))


def test_calendars_and_policies_are_for_admins_only(monday) -> None:
    agent, lead = signed_in(make_agent()), signed_in(make_lead())
    for name in ("web:sla_calendars", "web:sla_policies"):
        assert agent.get(reverse(name)).status_code == 403
        assert lead.get(reverse(name)).status_code == 403
    assert lead.get(reverse("web:sla_report")).status_code == 200


def test_an_admin_creates_edits_and_deletes_a_calendar(monday) -> None:
    client = signed_in(make_admin())
    make_agent(team="Night Ops")
    night_ops = Team.objects.get(name="Night Ops")
    response = client.post(
        reverse("web:sla_calendars"),
        {
            "name": "Lyon",
            "time_zone": "Europe/Paris",
            "hours": "mon-fri 08:00-18:00",
            "country": "FR",
            "holidays": "2026-12-24 Christmas Eve\n2026-12-31",
            "openings": "2026-05-01 09:00-12:00 Labour day duty\n2026-03-04 closed",
            "teams": [night_ops.pk],
        },
    )
    assert response.status_code == 302
    calendar = Calendar.objects.get(name="Lyon")
    assert calendar.holidays[0] == {"date": "2026-12-24", "name": "Christmas Eve"}
    assert calendar.openings[0] == {"date": "2026-03-04", "hours": "", "name": ""}
    page = client.get(reverse("web:sla_calendars")).content.decode()
    assert "Lyon" in page and "mon-fri 08:00-18:00" in page and "Night Ops" in page
    edit = client.get(reverse("web:sla_calendar_edit", args=[calendar.pk])).content.decode()
    assert "2026-05-01 09:00-12:00 Labour day duty" in edit
    refused = client.post(
        reverse("web:sla_calendar_edit", args=[calendar.pk]),
        {"name": "Lyon", "time_zone": "Europe/Lyon", "hours": "mon-fri 08:00-18:00"},
    )
    assert refused.status_code == 422 and "not a known time zone" in refused.content.decode()
    assert client.post(reverse("web:sla_calendar_delete", args=[calendar.pk])).status_code == 302
    assert not Calendar.objects.filter(pk=calendar.pk).exists()


def test_an_admin_creates_a_policy_with_escalations(always, monday) -> None:
    client = signed_in(make_admin())
    senior = make_agent()
    response = client.post(
        reverse("web:sla_policies"),
        {
            "name": "Critical",
            "calendar": always.pk,
            "priority": "1",
            "first_response_minutes": "15",
            "resolution_minutes": "120",
            "warn_percent": "75",
            "pause_when_waiting_requester": "on",
            "is_active": "on",
            "notify_on_breach": "on",
            "unassign_on_breach": "on",
            "assign_on_breach": str(senior.pk),
            "raise_priority_on_breach": "",
        },
    )
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="Critical")
    assert policy.priority == 1 and policy.warn_percent == 75
    assert policy.pause_when_waiting_requester and not policy.pause_when_waiting_third_party
    rules = {(rule.trigger, rule.action) for rule in Escalation.objects.filter(policy=policy)}
    assert rules == {("breach", "notify"), ("breach", "unassign"), ("breach", "assign")}
    listed = client.get(reverse("web:sla_policies")).content.decode()
    assert "Critical" in listed and "P1" in listed and "2 h" in listed


def test_the_report_page_lists_attainment_and_breaches(per_priority, monday) -> None:
    agent = make_agent()
    make_ticket(subject="Answered in time")
    late = make_ticket(subject="Nobody answered", impact=1, urgency=1)
    ticket = Ticket.objects.get(subject="Answered in time")
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Hi")
    monday(45)
    client = signed_in(make_lead())
    page = client.get(
        reverse("web:sla_report"),
        {"start": "2026-03-01", "end": "2026-03-31", "group_by": "priority"},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "P1" in html and "P3" in html and "100.0 %" in html
    assert "Nobody answered" in html and f">{late.number}<" in html
    csv_text = client.get(
        reverse("web:sla_report_csv"), {"start": "2026-03-01", "end": "2026-03-31"}
    ).content.decode()
    assert csv_text.startswith("group,tickets,")
    inverted = client.get(reverse("web:sla_report"), {"start": "2026-03-10", "end": "2026-03-01"})
    assert inverted.status_code == 422


def test_the_ticket_card_shows_each_clock_coloured(per_priority, monday) -> None:
    agent, ticket = make_agent(), make_ticket(impact=1, urgency=1)
    monday(20)
    ticket_set_status(ticket_id=ticket.pk, status="waiting_requester", actor=agent)
    monday(40)
    html = render("{% sla_ticket_clocks ticket %}", ticket=ticket)
    assert "First response" in html and "sla-breached" in html  # 30 minutes passed
    assert "Resolution" in html and "sla-paused" in html
    assert "paused with 3 h 40 min of business time left" in html
    assert render("{% sla_ticket_clocks ticket %}", ticket=make_ticket(impact=4)).count("sla-") > 0


def test_no_card_without_a_policy(monday) -> None:
    assert render("{% sla_ticket_clocks ticket %}", ticket=make_ticket()).strip() == ""


def test_the_queue_puts_the_most_urgent_on_top_with_coloured_badges(per_priority, monday) -> None:
    agent = make_agent()
    relaxed = make_ticket(subject="relaxed", impact=4, urgency=4)  # P4: 8 h
    make_ticket(subject="urgent", impact=1, urgency=1)  # P1: 30 min
    paused = make_ticket(subject="paused")
    article_add(ticket_id=paused.pk, author=agent, actor=agent, body="Waiting on you")
    ticket_set_status(ticket_id=paused.pk, status="waiting_requester", actor=agent)
    monday(25)
    late = make_ticket(subject="late", impact=1, urgency=1)  # due at 55
    monday(45)  # urgent is overdue; late is past its warning (49) soon, not yet
    ordered = list(order_by_urgency(Ticket.objects.all()))
    assert [t.subject for t in ordered] == ["urgent", "late", "relaxed", "paused"]
    attach_sla_marks(ordered)
    badges = {t.subject: render("{% sla_badge ticket %}", ticket=t) for t in ordered}
    assert "sla-breached" in badges["urgent"] and "overdue" in badges["urgent"]
    assert "sla-ok" in badges["late"] and "due in" in badges["late"]
    assert "sla-paused" in badges["paused"]
    monday(50)
    warned = order_by_urgency(Ticket.objects.filter(pk=late.pk)).get()
    attach_sla_marks([warned])
    assert "sla-warning" in render("{% sla_badge ticket %}", ticket=warned)
    assert "sla-ok" in render("{% sla_badge ticket %}", ticket=relaxed)  # without annotations


def test_editing_a_policy_keeps_escalation_rules_it_does_not_touch(always, monday) -> None:
    policy = policy_create(
        spec=PolicySpec(
            name="Gold", calendar=always.name, first_response_minutes=15, resolution_minutes=60
        ),
        escalations=[EscalationSpec("warning", "notify", clock="resolution")],
    )
    client = signed_in(make_admin())
    page = client.get(reverse("web:sla_policy_edit", args=[policy.pk]))
    assert page.status_code == 200 and 'value="Gold"' in page.content.decode()
    saved = client.post(
        reverse("web:sla_policy_edit", args=[policy.pk]),
        {
            "name": "Gold",
            "calendar": always.pk,
            "first_response_minutes": "20",
            "resolution_minutes": "60",
            "warn_percent": "80",
            "pause_when_waiting_requester": "on",
            "pause_when_waiting_third_party": "on",
            "is_active": "on",
            "notify_on_warning": "on",
        },
    )
    assert saved.status_code == 302
    policy.refresh_from_db()
    assert policy.first_response_minutes == 20
    assert list(policy.escalations.values_list("trigger", "clock", "action")) == [
        ("warning", "resolution", "notify")
    ]
    client.post(reverse("web:sla_policy_delete", args=[policy.pk]))
    assert not SlaPolicy.objects.exists()
