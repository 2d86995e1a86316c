"""People are found by address whatever its case, through an index."""

from __future__ import annotations

import pytest
from django.db import connection
from tests.factories import make_agent, make_requester

from expediter.staff.models import User, _email_lookup_sql
from expediter.staff.services import requester_get_or_create

pytestmark = pytest.mark.django_db


def test_an_address_finds_its_person_whatever_the_case_and_spaces() -> None:
    ann = make_agent(email="Ann.Lee@Example.org")
    assert User.objects.with_email("  ann.lee@EXAMPLE.ORG ").get() == ann
    assert not User.objects.with_email("ann@example.org").exists()
    assert not User.objects.with_email(None).exists()


def test_by_email_finds_the_same_person_as_the_query_it_replaces() -> None:
    ann = make_agent(email="Ann.Lee@Example.org", name="Ann")
    make_requester(email="bob@example.org")
    for asked in ("  ann.lee@EXAMPLE.ORG ", "bob@EXAMPLE.org", "nobody@example.org", "", None):
        assert User.objects.by_email(asked) == User.objects.with_email(asked).first()
    found = User.objects.by_email("ann.lee@example.org")
    assert found is not None
    assert (found.pk, found.email, found.name, found.role) == (ann.pk, ann.email, "Ann", "agent")
    assert (found.is_active, found.date_joined) == (True, ann.date_joined)


def test_a_known_sender_in_other_case_is_not_created_twice() -> None:
    known = make_requester(email="bob@example.org")
    assert requester_get_or_create(email="BOB@example.ORG") == known
    assert User.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan is what is checked")
def test_the_lookup_uses_the_lower_case_index() -> None:
    sql, params = User.objects.with_email("x@example.org").order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "user_email_lower_idx" in plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan is what is checked")
def test_the_statement_built_once_uses_the_lower_case_index_too() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {_email_lookup_sql()}", ["x@example.org"])
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "user_email_lower_idx" in plan
