"""The agent's queues: what each shows, filters, sorting, paging, and a flat query count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from tests.factories import make_agent, make_lead, make_requester, make_ticket

from expediter.core import clock
from expediter.staff.models import Team
from expediter.staff.services import user_set_language
from expediter.tickets.services import ticket_assign
from expediter.tickets.services.catalogue import service_save
from expediter.web import paging
from expediter.web.forms.queues import QueueFilterForm
from expediter.web.views import queues as queue_views

pytestmark = pytest.mark.django_db

QUEUE_QUERY_BOUND = 10  # session, user, teams, count, keys, rows, badges, filter choices


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="number"><a href="[^"]+">(\d+)</a>', html)]


def _desk_with_tickets(count: int):
    service_save(name="Network", team="Service Desk")
    lead = make_lead()
    agent = make_agent()
    requesters = [make_requester() for _ in range(3)]
    for index in range(count):
        ticket = make_ticket(
            requester=requesters[index % 3],
            service="Network",
            subject=f"Ticket {index}",
            impact=1 + index % 4,
        )
        if index % 2:
            ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=lead)
    return lead, agent


@pytest.mark.parametrize("count", [5, 60])
def test_queue_page_issues_the_same_queries_for_5_and_60_tickets(
    count: int, signed_in, django_assert_max_num_queries
) -> None:
    lead, agent = _desk_with_tickets(count)
    for user, queue in ((lead, "open"), (agent, "team"), (agent, "mine")):
        client = signed_in(user)
        with django_assert_max_num_queries(QUEUE_QUERY_BOUND):
            response = client.get(reverse("web:queue", args=[queue]))
        assert response.status_code == 200


def test_queue_query_count_does_not_grow_with_rows(signed_in) -> None:
    lead, _agent = _desk_with_tickets(3)
    client = signed_in(lead)
    url = reverse("web:queue", args=["open"])
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _desk_with_tickets(40)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert len(_numbers(page.content.decode())) == 43
    assert len(many.captured_queries) == len(few.captured_queries)
    assert sum("COUNT(" in q["sql"] for q in many.captured_queries) == 1


def test_queues_show_mine_unassigned_and_team(signed_in) -> None:
    lead = make_lead()
    agent = make_agent()
    mine = make_ticket(subject="Assigned to me")
    ticket_assign(ticket_id=mine.pk, assignee=agent, actor=lead)
    make_ticket(subject="Nobody owns me")
    client = signed_in(agent)
    mine_page = client.get(reverse("web:queue", args=["mine"])).content.decode()
    unassigned_page = client.get(reverse("web:queue", args=["unassigned"])).content.decode()
    team_page = client.get(reverse("web:queue", args=["team"])).content.decode()
    assert "Assigned to me" in mine_page and "Nobody owns me" not in mine_page
    assert "Nobody owns me" in unassigned_page and "Assigned to me" not in unassigned_page
    assert "Assigned to me" in team_page  # it joined the assignee's team


def test_filters_narrow_the_queue(signed_in) -> None:
    service_save(name="Printing", team="Service Desk")
    make_ticket(subject="Paper jam in tray", service="Printing", impact=1, urgency=1)
    make_ticket(subject="Monitor flickers", impact=4, urgency=4)
    client = signed_in(make_lead())
    url = reverse("web:queue", args=["open"])

    def subjects(**query: str) -> str:
        return client.get(url, query).content.decode()

    assert "Paper jam" in subjects(q="jam") and "Monitor" not in subjects(q="jam")
    assert "Monitor" in subjects(priority="4") and "Paper jam" not in subjects(priority="4")
    assert "Paper jam" in subjects(service="Printing")
    assert "Monitor" not in subjects(service="Printing")
    assert "Paper jam" in subjects(team="Service Desk")
    assert "Monitor" not in subjects(team="Service Desk")
    assert "Monitor" not in subjects(status="resolved")


def test_sorting_by_priority_and_by_age(signed_in) -> None:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    numbers = []
    try:
        for hours, impact in ((0, 4), (1, 1), (2, 3)):
            clock.set_now(start + dt.timedelta(hours=hours))
            numbers.append(make_ticket(impact=impact, urgency=impact).number)
    finally:
        clock.set_now(None)
    oldest, urgent, middle = numbers
    client = signed_in(make_lead())
    url = reverse("web:queue", args=["open"])
    assert _numbers(client.get(url, {"sort": "priority"}).content.decode()) == [
        urgent,
        middle,
        oldest,
    ]
    assert _numbers(client.get(url, {"sort": "oldest"}).content.decode()) == numbers
    assert _numbers(client.get(url, {"sort": "newest"}).content.decode()) == numbers[::-1]


def test_queue_pages_by_fifty(signed_in) -> None:
    lead, _agent = _desk_with_tickets(55)
    client = signed_in(lead)
    url = reverse("web:queue", args=["open"])
    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    assert len(_numbers(first)) == 50
    assert len(_numbers(second)) == 5
    assert "55 tickets" in first


def test_htmx_gets_only_the_results_partial(signed_in) -> None:
    make_ticket(subject="Only the rows")
    client = signed_in(make_lead())
    response = client.get(reverse("web:queue", args=["open"]), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="queue-results"' in html
    assert "Only the rows" in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_queue_rows_escape_what_people_typed(signed_in) -> None:
    requester = make_requester(name='Eve <img src=x onerror="alert(1)">')
    service_save(name="Print & <b>scan</b>", team="Service Desk")
    ticket = make_ticket(
        requester=requester, subject="<script>alert(1)</script>", service="Print & <b>scan</b>"
    )
    page = signed_in(make_lead()).get(reverse("web:queue", args=["open"])).content.decode()
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Eve &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "Print &amp; &lt;b&gt;scan&lt;/b&gt;" in page
    assert f'<td class="number"><a href="/tickets/{ticket.pk}">{ticket.number}</a></td>' in page


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    "data", [{}, {"status": "all", "team": 'R&D "core"', "priority": "2", "sort": "oldest"}]
)
def test_the_filter_selects_are_django_s_markup(language, data) -> None:

    Team.objects.create(name='R&D "core"')
    Team.objects.create(name="<Desk>")
    between_tags = re.compile(r">\s+<")
    with translation.override(language):
        form = QueueFilterForm(data)
        for name in ("status", "team", "service", "priority", "sort"):
            field = form[name]
            stock = field.as_widget(widget=forms.Select(choices=field.field.widget.choices))
            assert between_tags.sub("><", str(field)) == between_tags.sub("><", stock)


def test_a_long_queue_is_counted_up_to_a_bound_and_every_page_stays_reachable(
    signed_in, monkeypatch
) -> None:
    monkeypatch.setattr(paging, "COUNT_UP_TO", 3)
    monkeypatch.setattr(queue_views, "PAGE_SIZE", 2)
    lead, _agent = _desk_with_tickets(8)
    client = signed_in(lead)
    url = reverse("web:queue", args=["open"])
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url).content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 4" in counts[0]
    assert "More than 3 tickets" in first and "Page 1<" in first and "Next" in first
    third = client.get(url, {"page": 3}).content.decode()
    assert "More than 6 tickets" in third and "Next" in third
    last = client.get(url, {"page": 4}).content.decode()
    assert "8 tickets" in last and "Page 4 of 4" in last and "Next" not in last
    seen = [
        n
        for page in (1, 2, 3, 4)
        for n in _numbers(client.get(url, {"page": page}).content.decode())
    ]
    assert len(seen) == len(set(seen)) == 8
    user_set_language(user=lead, language="fr")
    french = client.get(url).content.decode()
    assert "Plus de 3 tickets" in french and "Page 1<" in french
