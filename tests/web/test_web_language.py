"""The pages speak English or French, chosen by browser, cookie or profile."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from tests.factories import make_agent, make_requester, make_ticket

from expediter.web.middleware import LANGUAGE_COOKIE

pytestmark = pytest.mark.django_db


def test_switching_to_french_translates_the_pages_and_the_profile(signed_in) -> None:
    requester = make_requester()
    client = signed_in(requester)
    assert "My requests" in client.get(reverse("web:portal")).content.decode()
    response = client.post(
        reverse("web:set_language"), {"language": "fr", "next": reverse("web:portal")}
    )
    assert response["Location"] == reverse("web:portal")
    assert response.cookies[LANGUAGE_COOKIE].value == "fr"
    page = client.get(reverse("web:portal")).content.decode()
    assert "Mes demandes" in page and "Nouvelle demande" in page
    assert '<html lang="fr">' in page
    requester.refresh_from_db()
    assert requester.language == "fr"


def test_visitors_can_switch_too(client: Client) -> None:
    client.post(reverse("web:set_language"), {"language": "fr", "next": reverse("web:login")})
    page = client.get(reverse("web:login")).content.decode()
    assert "Se connecter" in page and "Mot de passe oublié ?" in page


def test_the_browser_language_is_the_default(client: Client) -> None:
    page = client.get(reverse("web:login"), headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "Se connecter" in page.content.decode()


def test_statuses_priorities_and_timeline_are_translated(signed_in) -> None:
    ticket = make_ticket()
    client = signed_in(make_agent())
    client.post(reverse("web:set_language"), {"language": "fr"})
    page = client.get(reverse("web:ticket", args=[ticket.pk])).content.decode()
    assert "Nouveau" in page  # status new
    assert "P3 Moyenne" in page
    assert "a créé le ticket" in page


def test_an_unknown_language_changes_nothing(signed_in) -> None:
    requester = make_requester()
    response = signed_in(requester).post(reverse("web:set_language"), {"language": "xx"})
    assert LANGUAGE_COOKIE not in response.cookies
    requester.refresh_from_db()
    assert requester.language == "en"
