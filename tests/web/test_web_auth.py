"""Signing in, rate limits, signing out and resetting a password."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from tests.factories import make_agent, make_requester

from expediter.staff.services import requester_get_or_create
from expediter.web.middleware import LANGUAGE_COOKIE

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # the factories' password
WRONG_ANSWER = "This email and password do not match an active account."
TOO_MANY = "Too many failed attempts."


def _login(client: Client, email: str, password: str, **extra: str):
    return client.post(reverse("web:login"), {"email": email, "password": password, **extra})


def test_sign_in_and_go_to_next(client: Client) -> None:
    agent = make_agent()
    response = _login(client, agent.email.upper(), PASSWORD, next="/tickets/1")
    assert response.status_code == 302
    assert response["Location"] == "/tickets/1"
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_next_cannot_leave_the_site(client: Client) -> None:
    agent = make_agent()
    response = _login(client, agent.email, PASSWORD, next="https://evil.example/")
    assert response["Location"] == reverse("web:home")


def test_sign_in_sets_the_profile_language(client: Client) -> None:
    requester = make_requester(language="fr")
    response = _login(client, requester.email, PASSWORD)
    assert response.cookies[LANGUAGE_COOKIE].value == "fr"


def test_wrong_password_and_unknown_account_get_the_same_answer(client: Client) -> None:
    agent = make_agent()
    wrong = _login(client, agent.email, "not it")
    unknown = _login(client, "nobody@example.org", "not it")
    assert wrong.status_code == unknown.status_code == 422
    assert WRONG_ANSWER in wrong.content.decode()
    assert WRONG_ANSWER in unknown.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_accounts_cannot_sign_in(client: Client) -> None:
    agent = make_agent()
    agent.is_active = False
    agent.save()
    assert WRONG_ANSWER in _login(client, agent.email, PASSWORD).content.decode()


def test_ten_failures_lock_the_account_from_that_address(client: Client) -> None:
    agent = make_agent()
    for _ in range(10):
        assert TOO_MANY not in _login(client, agent.email, "guess").content.decode()
    locked = _login(client, agent.email, PASSWORD)  # even the right password now
    assert TOO_MANY in locked.content.decode()
    assert "_auth_user_id" not in client.session
    other = _login(Client(REMOTE_ADDR="10.0.0.9"), agent.email, PASSWORD)
    assert other.status_code == 302  # another address is not locked out


def test_the_lock_looks_the_same_for_accounts_that_do_not_exist(client: Client) -> None:
    for _ in range(10):
        _login(client, "ghost@example.org", "guess")
    assert TOO_MANY in _login(client, "ghost@example.org", "guess").content.decode()


def test_sign_out_needs_a_post(client: Client) -> None:
    agent = make_agent()
    client.force_login(agent)
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert response["Location"] == reverse("web:login")
    assert "_auth_user_id" not in client.session


def _reset_link(message_body: str) -> str:
    match = re.search(r"(https?://\S+/password-reset/\S+/\S+)", message_body)
    assert match, message_body
    return match.group(1)


def test_password_reset_link_is_built_on_base_url_not_host(client: Client) -> None:
    agent = make_agent()
    response = client.post(
        reverse("web:password_reset"), {"email": agent.email}, HTTP_HOST="evil.example"
    )
    assert response["Location"] == reverse("web:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [agent.email]
    link = _reset_link(message.body)
    assert link.startswith(settings.BASE_URL + "/password-reset/")
    assert "evil.example" not in message.body


def test_password_reset_completes_and_the_new_password_works(client: Client) -> None:
    agent = make_agent()
    client.post(reverse("web:password_reset"), {"email": agent.email})
    path = _reset_link(mail.outbox[0].body).removeprefix(settings.BASE_URL)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and b"new_password1" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"},
    )
    assert done["Location"] == reverse("web:password_reset_complete")
    assert _login(Client(), agent.email, "a brand new secret 42").status_code == 302


def test_people_created_by_email_can_choose_a_password(client: Client) -> None:
    requester = requester_get_or_create(email="walkin@example.org")
    assert not requester.has_usable_password()
    client.post(reverse("web:password_reset"), {"email": "walkin@example.org"})
    assert len(mail.outbox) == 1


def test_password_reset_for_unknown_address_looks_the_same_and_sends_nothing(
    client: Client,
) -> None:
    response = client.post(reverse("web:password_reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("web:password_reset_done")
    assert mail.outbox == []


def test_password_reset_is_rate_limited_per_account(client: Client) -> None:
    agent = make_agent()
    for _ in range(5):
        response = client.post(reverse("web:password_reset"), {"email": agent.email})
        assert response["Location"] == reverse("web:password_reset_done")
    assert len(mail.outbox) == 3
