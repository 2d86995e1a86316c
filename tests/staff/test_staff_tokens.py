"""API tokens are stored hashed and die with their user."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.factories import make_agent

from expediter.core import clock
from expediter.staff.models import ApiToken
from expediter.staff.services import token_authenticate, token_create

pytestmark = pytest.mark.django_db


def test_only_the_digest_is_stored() -> None:
    agent = make_agent()
    secret = token_create(user=agent)
    row = ApiToken.objects.get(user=agent)
    assert secret not in row.digest and len(row.digest) == 64
    assert token_authenticate(secret=secret) == agent
    assert token_authenticate(secret=secret + "x") is None
    agent.is_active = False
    agent.save()
    assert token_authenticate(secret=secret) is None


def test_a_token_is_refused_once_deleted_and_its_user_comes_back_whole() -> None:
    agent = make_agent()
    secret = token_create(user=agent)
    found = token_authenticate(secret=secret)
    assert found is not None
    assert (found.pk, found.email, found.role, found.date_joined) == (
        agent.pk,
        agent.email,
        agent.role,
        agent.date_joined,
    )
    ApiToken.objects.filter(user=agent).delete()
    assert token_authenticate(secret=secret) is None


def test_last_use_is_written_at_most_every_five_minutes() -> None:
    agent = make_agent()
    secret = token_create(user=agent)
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    row = ApiToken.objects.filter(user=agent)
    with clock.frozen(start):
        token_authenticate(secret=secret)
    assert row.get().last_used_at == start
    with clock.frozen(start + dt.timedelta(minutes=4)):
        token_authenticate(secret=secret)
    assert row.get().last_used_at == start
    later = start + dt.timedelta(minutes=6)
    with clock.frozen(later):
        token_authenticate(secret=secret)
    assert row.get().last_used_at == later
