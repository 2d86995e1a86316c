"""API tokens are stored hashed and die with their user."""

from __future__ import annotations

import pytest
from tests.factories import make_agent

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
