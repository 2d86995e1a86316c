"""Rows inserted with a statement kept per model read back exactly as ``save()`` writes them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_init, post_save, pre_save
from django.test.utils import CaptureQueriesContext
from tests.factories import make_agent, make_requester, make_ticket

from expediter.core.rows import (
    Stamp,
    first_instance,
    insert,
    insert_all,
    insert_batch,
    insert_prepared,
    prepare,
    selected_columns,
    stored_value,
)
from expediter.mail.models import InboundMessage, Mailbox
from expediter.staff.models import ApiToken, User
from expediter.tickets.models import StoredBlob, Ticket, TicketEvent, TicketSearchText

pytestmark = pytest.mark.django_db(transaction=False)

AT = dt.datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=dt.UTC)


def test_a_row_gets_its_id_and_every_field_reads_back() -> None:
    ticket = make_ticket()
    agent = make_agent()
    event = TicketEvent(
        ticket=ticket,
        actor=agent,
        verb="noted",
        changes={"status": ["new", "assigned"], "note": "é ✓"},
        reason=None,
        at=AT,
    )
    assert insert(event) is event
    assert event.pk is not None and not event._state.adding
    stored = TicketEvent.objects.get(pk=event.pk)
    assert (stored.ticket_id, stored.actor_id, stored.verb, stored.at, stored.reason) == (
        ticket.pk,
        agent.pk,
        "noted",
        AT,
        None,
    )
    assert stored.changes == {"status": ["new", "assigned"], "note": "é ✓"}


def test_several_rows_get_distinct_ids_in_order() -> None:
    ticket = make_ticket()
    events = [TicketEvent(ticket=ticket, verb=f"v{i}", at=AT) for i in range(3)]
    insert_all(events)
    ids = [event.pk for event in events]
    assert len(set(ids)) == 3 and ids == sorted(ids)
    assert list(TicketEvent.objects.filter(pk__in=ids).order_by("pk").values_list("verb")) == [
        ("v0",),
        ("v1",),
        ("v2",),
    ]


def test_a_batch_spanning_several_statements_gets_its_ids_in_order_and_reads_back() -> None:
    ticket, agent = make_ticket(), make_agent()
    later = AT + dt.timedelta(hours=1)
    events = [
        TicketEvent(
            ticket=ticket,
            actor=agent if i % 2 else None,
            verb=f"v{i}",
            changes={"n": i},
            at=AT if i % 3 else later,
        )
        for i in range(400)  # SQLite takes 999 values per statement: 166 rows of 6
    ]
    insert_batch(events)
    ids = [event.pk for event in events]
    assert len(set(ids)) == 400 and ids == sorted(ids)
    assert not any(event._state.adding for event in events)
    stored = {e.pk: e for e in TicketEvent.objects.filter(pk__in=ids)}
    assert [(stored[i].verb, stored[i].actor_id, stored[i].changes, stored[i].at) for i in ids] == [
        (e.verb, e.actor_id, e.changes, e.at) for e in events
    ]


def test_a_batch_converts_equal_values_of_different_types_apart() -> None:
    ticket = make_ticket()
    verbs = (1, True, 1.0, 1, Decimal("1.0"), Decimal("1.00"))
    events = [TicketEvent(ticket=ticket, verb=verb, at=AT) for verb in verbs]
    insert_batch(events)
    stored = TicketEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("pk")
    assert [e.verb for e in stored] == ["1", "True", "1.0", "1", "1.0", "1.00"]


def test_a_batch_encrypts_the_same_secret_anew_for_each_row() -> None:
    boxes = [Mailbox(name=f"box {i}", host="imap.corp.example", secret="same") for i in (1, 2)]
    insert_batch(boxes)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM mail_mailbox ORDER BY id")
        tokens = [row[0] for row in cursor.fetchall()]
    assert len(set(tokens)) == 2 and "same" not in tokens  # a nonce each, never shared
    assert [box.secret for box in Mailbox.objects.order_by("pk")] == ["same", "same"]


def test_rows_sharing_one_changing_object_store_its_value_in_each_row() -> None:
    ticket = make_ticket()
    shared = {"n": 1}
    events = [TicketEvent(ticket=ticket, verb="v", changes=shared, at=AT) for _ in range(3)]
    insert_batch(events)
    stored = TicketEvent.objects.filter(pk__in=[e.pk for e in events])
    assert [e.changes for e in stored] == [{"n": 1}] * 3


def _columns(obj: object) -> dict[str, object]:
    return {k: v for k, v in vars(obj).items() if k != "_state"}


def test_a_stamped_row_is_the_row_the_constructor_makes() -> None:
    blob = StoredBlob.objects.create(sha256="b" * 64, size=3)
    shared = {"source": "import", "received_at": AT, "claimed_until": AT}
    own = {"blob_id": blob.pk, "sha256": "c" * 64, "size": 3, "source_detail": "new/1"}
    stamped = Stamp(InboundMessage, **shared).make(**own)
    assert _columns(stamped) == _columns(InboundMessage(**shared, **own))
    assert stamped._state.adding and stamped._state.db is None
    insert_batch([stamped])
    assert _columns(InboundMessage.objects.get(pk=stamped.pk)) == _columns(stamped)


def test_each_stamped_row_draws_its_own_default() -> None:
    stamp = Stamp(InboundMessage, source="import", received_at=AT)
    first, second = stamp.make(sha256="1"), stamp.make(sha256="2")
    first.evidence.append("list-id")
    assert second.evidence == [] and stamp.make(sha256="3").evidence == []
    assert (first.sha256, second.sha256) == ("1", "2")


def test_a_stamp_takes_column_attributes_only() -> None:
    blob = StoredBlob.objects.create(sha256="d" * 64, size=3)
    with pytest.raises(TypeError, match="blob"):
        Stamp(InboundMessage, blob=blob)
    with pytest.raises(TypeError, match="blob"):
        Stamp(InboundMessage).make(blob=blob)


def test_a_model_heard_when_constructed_is_constructed_for_each_row() -> None:
    heard: list[str] = []

    def receiver(sender: type, instance: TicketEvent, **kwargs: object) -> None:
        heard.append(instance.verb)

    post_init.connect(receiver, sender=TicketEvent)
    try:
        stamp = Stamp(TicketEvent, at=AT)
        events = [stamp.make(verb=verb) for verb in ("a", "b")]
    finally:
        post_init.disconnect(receiver, sender=TicketEvent)
    assert heard == ["", "a", "b"] and [e.verb for e in events] == ["a", "b"]


def test_a_stamp_constructs_rows_of_a_model_with_a_field_of_its_own() -> None:
    stamp = Stamp(Mailbox, host="imap.corp.example", secret="same")
    boxes = [stamp.make(name=f"box {i}") for i in (1, 2)]
    assert not stamp.copies
    insert_batch(boxes)
    assert [(b.name, b.secret) for b in Mailbox.objects.order_by("pk")] == [
        ("box 1", "same"),
        ("box 2", "same"),
    ]


def test_a_row_whose_key_is_another_row_keeps_that_key() -> None:
    ticket = make_ticket()
    TicketSearchText.objects.filter(ticket=ticket).delete()
    insert(TicketSearchText(ticket=ticket, text="printer on fire"))
    assert TicketSearchText.objects.get(ticket=ticket).text == "printer on fire"


def test_auto_now_add_fields_are_filled_as_save_fills_them() -> None:
    token = ApiToken(user=make_agent(), digest="d" * 64)
    insert(token)
    assert token.created_at is not None
    assert ApiToken.objects.get(pk=token.pk).created_at == token.created_at


def test_a_chosen_id_is_kept() -> None:
    insert(ApiToken(pk=987654, user=make_agent(), digest="c" * 64))
    assert ApiToken.objects.get(pk=987654).digest == "c" * 64


def test_receivers_after_a_save_hear_of_each_new_row_as_from_save() -> None:
    heard: list[dict[str, object]] = []

    def receiver(**kwargs: object) -> None:
        heard.append(kwargs)

    post_save.connect(receiver, sender=User, dispatch_uid="rows-test")
    try:
        user = make_requester()
        heard.clear()
        other = User(email="new@example.test", name="New", role=user.role)
        insert(other)
    finally:
        post_save.disconnect(dispatch_uid="rows-test", sender=User)
    assert heard == [
        {
            "signal": post_save,
            "sender": User,
            "instance": other,
            "created": True,
            "update_fields": None,
            "raw": False,
            "using": "default",
        }
    ]
    assert other.pk is not None
    assert User.objects.filter(email="new@example.test").exists()


def test_models_with_receivers_before_a_save_are_saved_the_ordinary_way() -> None:
    """A ``pre_save`` receiver may change the instance: its values are read after it ran."""

    def receiver(sender: type[User], instance: User, **_: object) -> None:
        instance.name = "Named by a receiver"

    pre_save.connect(receiver, sender=User, dispatch_uid="rows-test-pre")
    try:
        role = make_requester().role
        user = insert(User(email="pre@example.test", name="As given", role=role))
    finally:
        pre_save.disconnect(dispatch_uid="rows-test-pre", sender=User)
    assert User.objects.get(pk=user.pk).name == "Named by a receiver"


def test_an_event_that_already_has_an_id_is_still_refused() -> None:
    event = TicketEvent.objects.get(ticket=make_ticket(), verb="created")
    with pytest.raises(RuntimeError, match="append-only"):
        insert(event)


def test_prepared_rows_take_the_later_fields_when_written() -> None:
    """Values are worked out at ``prepare``; the ``later`` ones are read at the write."""
    first, second = make_ticket(), make_ticket()
    events = [TicketEvent(ticket=first, verb=f"v{i}", at=AT) for i in range(2)]
    prepared = prepare(events, later=("ticket_id",))
    for event in events:
        event.ticket = second
        event.verb = "changed after prepare"
    insert_prepared(prepared)
    stored = TicketEvent.objects.filter(pk__in=[event.pk for event in events]).order_by("pk")
    assert list(stored.values_list("ticket_id", "verb")) == [(second.pk, "v0"), (second.pk, "v1")]


def test_a_prepared_row_takes_the_id_of_a_related_row_written_after_it() -> None:
    ticket = make_ticket()
    written_id, ticket.pk = ticket.pk, None  # as a ticket about to be written
    event = TicketEvent(ticket=ticket, verb="v", at=AT)
    prepared = prepare([event], later=("ticket_id",))
    ticket.pk = written_id  # what writing the ticket gives it
    insert_prepared(prepared)
    assert TicketEvent.objects.get(pk=event.pk).ticket_id == written_id


def test_a_prepared_row_related_to_a_row_still_unsaved_is_refused() -> None:
    event = TicketEvent(ticket=Ticket(subject="never written"), verb="v", at=AT)
    prepared = prepare([event], later=("ticket_id",))
    with pytest.raises(ValueError, match="unsaved related object"):
        insert_prepared(prepared)


def test_a_prepared_row_without_its_later_key_is_refused() -> None:
    event = TicketEvent(verb="orphan", at=AT)
    prepared = prepare([event], later=("ticket_id",))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_prepared(prepared)


def test_receivers_hear_of_each_prepared_row_once_written() -> None:
    heard: list[str] = []

    def receiver(sender: type[User], instance: User, created: bool, **_: object) -> None:
        heard.append(instance.email)

    post_save.connect(receiver, sender=User, dispatch_uid="rows-test-prepared")
    try:
        role = make_requester().role
        heard.clear()
        users = [User(email=f"p{i}@example.test", name="P", role=role) for i in range(2)]
        insert_prepared(prepare(users))
    finally:
        post_save.disconnect(dispatch_uid="rows-test-prepared", sender=User)
    assert heard == ["p0@example.test", "p1@example.test"]


def _selected_by_email(extra: str = "") -> str:
    table = User._meta.db_table
    return f"SELECT {selected_columns(User, 'u')}{extra} FROM {table} u WHERE u.email = %s"


def test_a_row_read_with_hand_written_sql_converts_as_the_orm_does() -> None:
    person = make_requester(email="anne@corp.example")
    person.last_login = AT
    person.save()
    found = first_instance(User, _selected_by_email(", 42 AS answer"), ["anne@corp.example"])
    assert found is not None
    read, extra = found
    expected = User.objects.get(pk=person.pk)
    for field in User._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(read.is_active, bool) and read.last_login == AT
    assert not read._state.adding and extra == (42,)


def test_no_row_reads_as_none() -> None:
    assert first_instance(User, _selected_by_email(), ["nobody@corp.example"]) is None


def test_a_statement_nobody_watches_still_fails_with_django_s_error() -> None:
    ticket = make_ticket()
    TicketSearchText.objects.filter(ticket=ticket).delete()
    insert(TicketSearchText(ticket=ticket, text="first"))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(TicketSearchText(ticket=ticket, text="second"))  # one row per ticket
    assert TicketSearchText.objects.get(ticket=ticket).text == "first"


def test_a_statement_is_seen_where_queries_are_counted() -> None:
    ticket = make_ticket()
    with CaptureQueriesContext(connection) as counted:
        insert(TicketEvent(ticket=ticket, verb="counted", at=AT))
    assert [q["sql"] for q in counted.captured_queries if "tickets_ticketevent" in q["sql"]]


@pytest.mark.parametrize("model", [Ticket, TicketEvent, InboundMessage, Mailbox, User])
def test_a_value_stored_as_is_is_what_django_would_store(model: type) -> None:
    for field in model._meta.concrete_fields:
        for value in (None, "", "Ticket 7", 0, 7):
            try:
                expected = field.get_db_prep_save(value, connection)
            except (TypeError, ValueError, ValidationError):
                continue  # a value this field never takes
            if field.get_db_prep_save(value, connection) != expected:
                continue  # drawn anew each time (an encrypted field): tested apart
            assert stored_value(field, value, connection) == expected, (field, value)
            assert type(stored_value(field, value, connection)) is type(expected), (field, value)


def test_an_encrypted_value_is_always_encrypted() -> None:
    field = Mailbox._meta.get_field("secret")
    assert stored_value(field, "hunter2", connection) not in {"hunter2", None}
