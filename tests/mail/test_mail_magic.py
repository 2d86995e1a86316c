"""Sign-in links mailed to requesters: single use, time-limited, requesters only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from tests.factories import make_agent, make_requester, make_ticket

from expediter.core.errors import NotFound
from expediter.mail.models import MagicLink
from expediter.mail.services import magic_link_create, magic_link_redeem, magic_links_purge

pytestmark = pytest.mark.django_db


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_link_signs_the_requester_in_once_and_opens_the_ticket() -> None:
    requester = make_requester()
    ticket = make_ticket(requester=requester)
    url = magic_link_create(user=requester, ticket=ticket)
    path = url.removeprefix("http://desk.test")
    client = Client()
    page = client.get(path)  # what a mail scanner does: nothing is used up
    assert page.status_code == 200 and b"Sign in" in page.content
    assert MagicLink.objects.get().used_at is None
    signed = client.post(path)
    assert signed.status_code == 302
    assert signed["Location"] == f"/portal/requests/{ticket.pk}"
    assert client.get(f"/portal/requests/{ticket.pk}").status_code == 200
    again = Client().post(path)
    assert again.status_code == 410
    assert "_auth_user_id" not in again.client.session


def test_only_the_hash_of_the_token_is_stored() -> None:
    url = magic_link_create(user=make_requester())
    assert token_of(url) not in MagicLink.objects.get().token_hash


def test_a_link_expires_after_seven_days(at) -> None:
    start = at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    requester = make_requester()
    url = magic_link_create(user=requester)
    at(start + dt.timedelta(days=7, seconds=1))
    with pytest.raises(NotFound):
        magic_link_redeem(token=token_of(url))
    assert Client().get(url.removeprefix("http://desk.test")).status_code == 410


def test_links_never_open_a_staff_account() -> None:
    with pytest.raises(ValueError):
        magic_link_create(user=make_agent())
    requester = make_requester()
    url = magic_link_create(user=requester)
    requester.role = "agent"
    requester.save()
    with pytest.raises(NotFound):
        magic_link_redeem(token=token_of(url))


def test_an_unknown_token_is_refused() -> None:
    assert Client().post("/magic/not-a-token").status_code == 410


def test_expired_links_are_purged(at) -> None:
    start = at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    requester = make_requester()
    magic_link_create(user=requester)
    at(start + dt.timedelta(days=3))
    fresh = magic_link_create(user=requester)
    at(start + dt.timedelta(days=9))
    assert magic_links_purge() == 1
    assert magic_link_redeem(token=token_of(fresh)).user == requester
