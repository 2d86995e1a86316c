"""What the mail tests share: a signed-in administrator's client."""

from __future__ import annotations

import pytest
from django.test import Client
from tests.factories import make_admin


@pytest.fixture
def admin_client() -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_admin())
    return client
