"""The pages speak French to French-speaking people, and every catalogue is complete.

The people here read French through their profile while their browser asks
for English, so what decides the language is the profile, as in production.
Each page must show French wording it is known for and none of the English
wording it would show untranslated.
"""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from tests.factories import make_admin, make_agent, make_lead, make_requester, make_ticket

import expediter
from expediter.appointments.services import appointment_book, visit_request
from expediter.routing.services import ticket_route
from expediter.schedules.services import (
    oncall_layer_add,
    oncall_override_add,
    oncall_schedule_create,
    shift_add,
    timeoff_request,
)
from expediter.sla.models import SlaPolicy
from expediter.sla.services import (
    CalendarSpec,
    EscalationSpec,
    PolicySpec,
    calendar_create,
    policy_create,
)
from expediter.staff.models import Team, User
from expediter.staff.services import site_create
from expediter.telephony.services import call_record_from_pbx
from expediter.tickets.models import Ticket, TicketEvent
from expediter.tickets.services import article_add, ticket_assign, worklog_add
from expediter.tickets.services.catalogue import service_save
from expediter.web.templatetags.desk import change_rows

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 6, 1)
PACKAGE = Path(expediter.__file__).parent
CATALOGUES = sorted(PACKAGE.glob("**/locale/fr/LC_MESSAGES/django.po"))

# What every signed-in page shows around its content, in English.
NAVIGATION_EN = ["Queues", "Worklog", "Schedules", "My requests", "New request", "Sign out"]
LEAD_NAVIGATION_EN = ["Assignment", "Visits"]


def paris(hhmm: str, day: dt.date = MONDAY) -> dt.datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hours, minutes, tzinfo=PARIS)


@dataclass
class Desk:
    """A Workplace team on Monday 1 June 2026, 10:00 in Paris; all but Bruno read French."""

    team: Team
    alice: User  # French technician, on duty, on call this week
    bruno: User  # English technician
    lead: User
    admin: User
    requester: User
    ticket: Ticket  # Rita's, assigned to Alice, with an SLA, a reply, work and an appointment
    policy: SlaPolicy


@pytest.fixture
def desk(db: None, at: Callable[[dt.datetime], dt.datetime]) -> Desk:
    at(paris("10:00"))
    site_create(name="Head office", latitude=48.8566, longitude=2.3522, address="1 rue de Rivoli")
    site_create(name="Acme", latitude=48.8918, longitude=2.2389, address="2 place de la Défense")
    calendar = calendar_create(
        spec=CalendarSpec(
            name="Paris", time_zone="Europe/Paris", hours="mon-sun 00:00-24:00", country="FR"
        )
    )
    policy = policy_create(
        spec=PolicySpec(
            name="Gold", calendar=calendar.name, first_response_minutes=30, resolution_minutes=240
        ),
        escalations=[EscalationSpec("warning", "notify"), EscalationSpec("breach", "unassign")],
    )
    service_save(name="Printing", team="Workplace", skills={"printers": 2})
    alice = make_agent(
        team="Workplace",
        name="Alice Tech",
        skills={"printers": 4},
        site="Head office",
        capacity=1,
        language="fr",
    )
    bruno = make_agent(
        team="Workplace", name="Bruno Tech", skills={"printers": 4}, site="Head office", capacity=1
    )
    lead = make_lead(team="Workplace", name="Lea Lead", language="fr")
    admin = make_admin(name="Ada Admin", language="fr")
    for agent in (alice, bruno):
        shift_add(agent=agent, hours="mon-fri 09:00-17:00", time_zone="Europe/Paris")
    timeoff_request(
        agent=alice,
        actor=alice,
        start=paris("00:00", dt.date(2026, 6, 3)),
        end=paris("00:00", dt.date(2026, 6, 4)),
        kind="training",
    )
    team = Team.objects.get(name="Workplace")
    nights = oncall_schedule_create(name="Workplace nights", team=team)
    oncall_layer_add(
        schedule=nights,
        name="Weekly",
        rotation_start=paris("09:00"),
        turn_length=dt.timedelta(days=7),
        members=[alice, bruno],
    )
    oncall_override_add(
        schedule=nights, user=bruno, start=paris("18:00"), end=paris("08:00", dt.date(2026, 6, 2))
    )
    requester = make_requester(name="Rita Requester", site="Acme", language="fr")
    ticket = make_ticket(requester, subject="Printer jammed", service="Printing")
    ticket_assign(ticket_id=ticket.pk, assignee=alice, actor=lead)
    ticket_assign(
        ticket_id=make_ticket(requester, subject="Scanner", service="Printing").pk,
        assignee=bruno,
        actor=lead,
    )
    ticket_route(ticket_id=make_ticket(requester, subject="Toner", service="Printing").pk)
    article_add(ticket_id=ticket.pk, author=alice, actor=alice, body="On regarde.")
    worklog_add(ticket_id=ticket.pk, agent=alice, minutes=15, note="diagnostic")
    appointment_book(
        ticket_id=ticket.pk, actor=lead, start=paris("14:00"), end=paris("15:00"), agent_id=alice.pk
    )
    visit_request(
        ticket_id=make_ticket(requester, subject="Screen", service="Printing").pk,
        actor=lead,
        date=MONDAY,
        window_start=dt.time(9),
        window_end=dt.time(12),
        duration_minutes=60,
    )
    call_record_from_pbx(
        caller_number="+33140000011",
        called_number="",
        started_at=paris("09:00"),
        duration_seconds=0,
        status="missed",
    )
    return Desk(
        team=team,
        alice=alice,
        bruno=bruno,
        lead=lead,
        admin=admin,
        requester=requester,
        ticket=ticket,
        policy=policy,
    )


@dataclass(frozen=True)
class Page:
    """A page, what it must say in French, and the English it must no longer say."""

    name: str
    url: Callable[[Desk], str]
    french: list[str]
    english: list[str]
    query: Callable[[Desk], dict[str, Any]] = field(default=lambda desk: {})


class _VisibleText(HTMLParser):
    """The words a person reads: text nodes and the attributes shown as text."""

    SHOWN_ATTRIBUTES = frozenset({"title", "placeholder", "aria-label", "alt"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden_depth += 1
        self.parts += [value or "" for name, value in attrs if name in self.SHOWN_ATTRIBUTES]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def page_problems(client: Client, desk: Desk, pages: list[Page], english: list[str]) -> list[str]:
    """Everything wrong with these pages, so one run lists every gap at once."""
    problems = []
    for page in pages:
        response = client.get(page.url(desk), page.query(desk), follow=True)
        if response.status_code != 200:
            problems.append(f"{page.name}: status {response.status_code}")
            continue
        html = response.content.decode()
        text = visible_text(html)
        if '<html lang="fr">' not in html:
            problems.append(f"{page.name}: not served in French")
        problems += [f"{page.name}: no {word!r}" for word in page.french if word not in text]
        problems += [
            f"{page.name}: English {word!r}"
            for word in [*english, *page.english]
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
        ]
    return problems


def profile_client(user: User) -> Client:
    """Signed in, the browser asking for English: the language comes from the profile."""
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


AGENT_PAGES = [
    Page(
        "my queue",
        lambda d: reverse("web:queue", args=["mine"]),
        ["Mes tickets", "Plus urgents (SLA)", "échéance dans", "Printer jammed"],
        ["My tickets", "Most urgent (SLA)", "due in", "Subject", "Filter"],
    ),
    Page(
        "team queue",
        lambda d: reverse("web:queue", args=["team"]),
        ["Mes équipes", "Toner"],
        ["My teams", "Sort", "Oldest first"],
    ),
    Page(
        "ticket",
        lambda d: reverse("web:ticket", args=[d.ticket.pk]),
        [
            "Niveau de service",
            "Gold, selon les heures ouvrées de Paris",
            "Respecté",
            "Dans les temps",
            "a pris un rendez-vous",
            "type de rendez-vous",
            "début",
            "01/06/2026 14:00",
            "À distance",
        ],
        [
            "Service level",
            "business hours",
            "Met",
            "On track",
            "business time",
            "booked an appointment",
            "appointment kind",
            "start",
            "remote",
            "History",
        ],
    ),
    Page(
        "ticket appointments",
        lambda d: reverse("web:appointment_ticket_panel", args=[d.ticket.pk]),
        ["Prendre rendez-vous", "Le meilleur agent disponible", "avec Alice Tech"],
        ["Book an appointment", "The best free agent", "with Alice Tech"],
    ),
    Page(
        "calls",
        lambda d: reverse("web:calls"),
        [
            "Consigner un appel",
            "Numéro de l’appelant",
            "En attente de rappel",
            "Rappelé",
            "Manqué",
        ],
        ["Log a call", "Caller's number", "Look up", "Waiting for a call back", "Called back"],
    ),
    Page(
        "my schedule",
        lambda d: reverse("web:schedule_mine"),
        [
            "Mon planning",
            "En service cette semaine",
            "Tours d’astreinte",
            "Demander une absence",
            "formation ?",
            "Retirer",
        ],
        [
            "My schedule",
            "On duty this week",
            "On-call turns",
            "Ask for time off",
            "training",
            "Withdraw",
            "Until",
            "override",
        ],
    ),
    Page(
        "team week",
        lambda d: reverse("web:schedule_team"),
        ["qui travaille quand", "En service actuellement", "absent ?", "Semaine suivante →"],
        ["who works when", "On duty now", "away", "Next week"],
    ),
    Page(
        "on call",
        lambda d: reverse("web:oncall_overview"),
        ["Qui est d’astreinte", "Actuellement", "Couche", "remplacement"],
        ["Who is on call", "Now:", "Layer", "override"],
    ),
    Page(
        "team calendar",
        lambda d: reverse("web:team_calendar"),
        ["Agenda de Workplace", "en service", "Agenda"],
        ["Calendar of", "on duty", "Calendar", "Later"],
        query=lambda d: {"team": "Workplace", "date": "2026-06-01"},
    ),
    Page(
        "calendar link",
        lambda d: reverse("web:appointment_feed"),
        ["Mon lien d’agenda", "Créer mon lien"],
        ["My calendar link", "Make my link"],
    ),
]

# The board's "why it waits" column quotes the routing engine's reasons, which are
# still English ("Lea Lead skipped: off duty"), so "off duty" is not checked there.
LEAD_PAGES = [
    Page(
        "assignment board",
        lambda d: reverse("web:routing_board"),
        [
            "Workplace : charge et file d’attente",
            "Capacité disponible en service",
            "en service jusqu’à 17:00",
            "hors service",
            "Échéance",
            "Motif de l’attente",
            "Attribuer manuellement",
            "Réglages d’attribution et d’effectifs",
            "Taux d’indisponibilité (0 à 0,95)",
        ],
        [
            "load and queue",
            "Spare capacity on duty",
            "on duty until",
            "Due",
            "Why it waits",
            "Assign by hand",
            "Routing and staffing settings",
            "Shrinkage",
        ],
        query=lambda d: {"team": d.team.pk},
    ),
    Page(
        "coverage",
        lambda d: reverse("web:coverage"),
        ["Semaine du", "couvert", "Chaque case se lit"],
        ["Week of", "covered", "Each cell reads", "Hour"],
        query=lambda d: {"team": d.team.pk},
    ),
    Page(
        "team week with decisions",
        lambda d: reverse("web:schedule_team"),
        ["Absences en attente de décision", "formation ?", "Approuver", "Refuser"],
        ["Time off waiting for a decision", "training", "Approve", "Reject"],
        query=lambda d: {"team": d.team.pk},
    ),
    Page(
        "SLA attainment",
        lambda d: reverse("web:sla_report"),
        ["Respect des SLA", "Taux de respect", "Regrouper par", "Respecté", "Dépassé"],
        ["SLA attainment", "Attainment", "Group by", "Met", "Breached"],
        query=lambda d: {"start": "2026-06-01", "end": "2026-06-30"},
    ),
    Page(
        "visit planning",
        lambda d: reverse("web:visit_plan"),
        ["Planifier les interventions sur site", "Planifier la journée"],
        ["Plan on-site visits", "Plan the day"],
    ),
]

ADMIN_PAGES = [
    Page(
        "business calendars",
        lambda d: reverse("web:sla_calendars"),
        ["Calendriers ouvrés", "Fuseau horaire", "Horaires hebdomadaires", "Nouveau calendrier"],
        ["Business calendars", "Time zone", "Weekly hours", "New calendar", "Create"],
    ),
    Page(
        "SLA policies",
        lambda d: reverse("web:sla_policies"),
        [
            "Nouvelle politique",
            "tous les tickets",
            "Escalades",
            "En cas de dépassement : réattribuer à",
            "Indifférent",
            "Ne pas changer",
        ],
        ["New policy", "every ticket", "Escalations", "On breach", "Any", "Leave it", "Nobody"],
    ),
    Page(
        "SLA policy",
        lambda d: reverse("web:sla_policy_edit", args=[d.policy.pk]),
        ["Supprimer cette politique", "Objectifs en minutes ouvrées"],
        ["Delete this policy", "Targets in business minutes"],
    ),
]

REQUESTER_PAGES = [
    Page(
        "my requests",
        lambda d: reverse("web:portal"),
        ["Mes demandes", "Dernière mise à jour", "Printer jammed"],
        ["Last update", "Opened"],
    ),
    Page(
        "new request",
        lambda d: reverse("web:portal_new"),
        ["Qui est concerné ?", "Envoyer la demande"],
        ["Who is affected?", "Send the request"],
    ),
    Page(
        "request",
        lambda d: reverse("web:portal_ticket", args=[d.ticket.pk]),
        ["Votre réponse", "Rendez-vous", "On regarde."],
        ["Your reply", "Appointments", "Send"],
    ),
    Page(
        "my appointments",
        lambda d: reverse("web:appointment_mine"),
        ["Mes rendez-vous", "À distance", "avec Alice Tech"],
        ["My appointments", "Remote", "with Alice Tech"],
    ),
    Page(
        "free slots",
        lambda d: reverse("web:appointment_portal_slots", args=[d.ticket.pk]),
        ["Voir les créneaux libres", "lundi 1 juin"],
        ["Show free slots", "Monday"],
    ),
]


def test_an_agents_pages_are_in_french(desk: Desk) -> None:
    problems = page_problems(profile_client(desk.alice), desk, AGENT_PAGES, NAVIGATION_EN)
    assert not problems, "\n".join(problems)


def test_a_leads_pages_are_in_french(desk: Desk) -> None:
    english = [*NAVIGATION_EN, *LEAD_NAVIGATION_EN]
    problems = page_problems(profile_client(desk.lead), desk, LEAD_PAGES, english)
    assert not problems, "\n".join(problems)


def test_the_sla_administration_is_in_french(desk: Desk) -> None:
    english = [*NAVIGATION_EN, *LEAD_NAVIGATION_EN]
    problems = page_problems(profile_client(desk.admin), desk, ADMIN_PAGES, english)
    assert not problems, "\n".join(problems)


def test_the_portal_is_in_french_for_a_french_requester(desk: Desk) -> None:
    english = ["My requests", "New request", "My appointments", "Sign out", "Language"]
    problems = page_problems(profile_client(desk.requester), desk, REQUESTER_PAGES, english)
    assert not problems, "\n".join(problems)


def test_an_english_agent_still_reads_english(desk: Desk) -> None:
    page = profile_client(desk.bruno).get(reverse("web:schedule_mine"), follow=True)
    text = visible_text(page.content.decode())
    assert "My schedule" in text and "override" in text and "Mon planning" not in text


def test_the_timeline_words_appointment_changes_in_french() -> None:
    event = TicketEvent(
        verb="appointment_booked",
        changes={
            "start": [None, "2026-06-01T14:00:00+02:00"],
            "appointment_kind": [None, "onsite"],
            "appointment_status": ["booked", "no_show"],
            "clock": [None, "first_response"],
        },
    )
    with translation.override("fr"):
        rows = {(row.field, row.before, row.after) for row in change_rows(event)}
    assert rows == {
        ("début", "—", "01/06/2026 14:00"),
        ("type de rendez-vous", "—", "Sur site"),
        ("statut du rendez-vous", "Réservé", "Absent"),
        ("compteur", "—", "Première réponse"),
    }


# The catalogues themselves


@dataclass
class Entry:
    context: str | None
    msgid: str
    plural: str | None
    msgstrs: list[str]
    fuzzy: bool

    @property
    def where(self) -> str:
        return f"{self.context + ' | ' if self.context else ''}{self.msgid!r}"


def parse_po(path: Path) -> list[Entry]:
    """The live entries of a .po file (obsolete ones are left out), header first."""
    drafts: list[dict[str, Any]] = []
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#~"):
            continue
        starts_entry = not line.startswith(('"', "msgstr"))
        if not drafts or (starts_entry and any(key.startswith("msgstr") for key in drafts[-1])):
            drafts.append({})
        draft = drafts[-1]
        if line.startswith("#,"):
            draft["fuzzy"] = "fuzzy" in line
        elif line.startswith('"'):
            draft[current] += ast.literal_eval(line)
        elif not line.startswith("#"):
            current, _, literal = line.partition(" ")
            draft[current] = ast.literal_eval(literal)
    return [
        Entry(
            context=draft.get("msgctxt"),
            msgid=draft["msgid"],
            plural=draft.get("msgid_plural"),
            msgstrs=[
                draft[key] for key in sorted(key for key in draft if key.startswith("msgstr"))
            ],
            fuzzy=draft.get("fuzzy", False),
        )
        for draft in drafts
        if "msgid" in draft
    ]


PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdif]|%[sd]|\{\w*\}|</?\w+[^>]*>")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_message_is_translated_with_its_placeholders(path: Path) -> None:
    header, *entries = parse_po(path)
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header.msgstrs[0]
    assert entries, path
    problems = [f"fuzzy {e.where}" for e in entries if e.fuzzy]
    problems += [f"untranslated {e.where}" for e in entries if not all(e.msgstrs)]
    for e in entries:
        if e.plural is None and placeholders(e.msgstrs[0]) != placeholders(e.msgid):
            problems.append(f"placeholders of {e.where}")
        if e.plural is not None:
            allowed = set(placeholders(e.msgid)) | set(placeholders(e.plural))
            if not all(set(placeholders(text)) <= allowed for text in e.msgstrs):
                problems.append(f"placeholders of {e.where}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_compiled_catalogue_is_up_to_date(path: Path) -> None:
    """The shipped .mo says what its .po says: nobody forgot ``make messages``."""
    with path.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = []
    for e in parse_po(path)[1:]:
        key = f"{e.context}\x04{e.msgid}" if e.context else e.msgid
        if e.plural is None:
            found = catalogue.pgettext(e.context, e.msgid) if e.context else catalogue.gettext(key)
            if found != e.msgstrs[0]:
                stale.append(e.where)
        elif [catalogue.ngettext(e.msgid, e.plural, n) for n in (1, 2)] != e.msgstrs:
            stale.append(e.where)
    assert not stale, "\n".join(stale)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext tools are not installed")
@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_catalogue_compiles_cleanly(path: Path) -> None:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr


def test_the_three_catalogues_are_found() -> None:
    assert {p.relative_to(PACKAGE).parts[0] for p in CATALOGUES} == {
        "locale",
        "mail",
        "appointments",
    }
