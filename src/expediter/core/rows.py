"""New rows written with an INSERT built once per model, for the hot paths.

Opening a ticket writes five or six rows, whichever channel it comes from.
``Model.save()`` rebuilds each INSERT from scratch: it clones a query,
compiles it and quotes every column again, which costs several times what
SQLite then takes to run the statement. :func:`insert` keeps the statement
per model and database, and only prepares the values; the values go through
each field's own ``pre_save`` and ``get_db_prep_save``, as ``save()`` does.

:func:`prepare` works the values out ahead, all but the ones named
``later`` (the id of a ticket that is not written yet), and
:func:`insert_prepared` writes them: on SQLite that keeps the preparing out
of the write transaction, which every other writer waits for.

A model that anything listens to before a save (``pre_save``) is saved the
ordinary way, so no receiver is ever skipped; one listened to after a save
only (``post_save``, as a routing roster listens to people) is written here
and its receivers are sent what ``save()`` sends them. A model's own ``save()`` is
not called for a new row: use this only for models whose ``save()`` adds
nothing to an insert (``TicketEvent.save()`` only refuses updates, and a row
that already has an id goes through ``save()`` here too).

:func:`insert_batch` is ``bulk_create`` for many new rows at a time (a mail
import's batch), which sends no signals either; a :class:`Stamp` makes such
rows when they share most of their values.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connection, connections, router
from django.db.models import (
    AutoField,
    BigAutoField,
    CharField,
    DateTimeField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    SmallAutoField,
    TextField,
)
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, post_save, pre_init, pre_save

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Plan:
    fields: tuple[Field, ...]  # type: ignore[type-arg]
    into: str  # INSERT INTO table (columns)
    returning: str  # " RETURNING pk", or nothing

    @property
    def returns_pk(self) -> bool:
        return bool(self.returning)

    @functools.cached_property
    def sql(self) -> str:
        return self.rows_sql(1)

    @functools.cached_property
    def reads(self) -> tuple[str | None, ...]:
        """Per column, the attribute its value is read from, where ``pre_save()`` only reads it."""
        return tuple(field.attname if _reads_attribute(field) else None for field in self.fields)

    @functools.cached_property
    def shared(self) -> tuple[frozenset[type], ...]:
        """Per column, the types of value whose stored form may be shared between rows."""
        return tuple(_shared_kinds(field) for field in self.fields)

    def rows_sql(self, rows: int) -> str:
        """The INSERT with ``rows`` rows of values."""
        values = ", ".join([f"({', '.join(['%s'] * len(self.fields))})"] * rows)
        return f"{self.into} VALUES {values}{self.returning}"


@dataclass
class Prepared(Generic[M]):
    """New rows of one model with their values worked out, but for the ``later`` fields."""

    objs: Sequence[M]
    alias: str
    plan: _Plan | None  # None: saved the ordinary way (a model something listens to)
    params: list[list[Any] | None]  # None for a row with a chosen id: saved the ordinary way
    later: tuple[tuple[int, Field], ...]  # type: ignore[type-arg]
    announced: bool = False  # post_save has receivers for the model


def insert(obj: M) -> M:
    """Write a new row for ``obj`` and give it its primary key."""
    insert_all([obj])
    return obj


def insert_all(objs: Sequence[M]) -> None:
    """Write new rows for ``objs`` (all of one model), one statement each."""
    insert_prepared(prepare(objs))


def prepare(objs: Sequence[M], *, later: Sequence[str] = ()) -> Prepared[M]:
    """Work out the values of new rows now, except the fields (attnames) in ``later``.

    Those are read from each object when the rows are written; a key to a
    related object that was not saved yet takes its id then.
    """
    if not objs:
        return Prepared(objs, "", None, [], ())
    model = type(objs[0])
    alias = router.db_for_write(model)
    if pre_save.has_listeners(model):
        return Prepared(objs, alias, None, [], ())
    db = connections[alias]
    plan = _plan(model, alias)
    late = tuple((i, field) for i, field in enumerate(plan.fields) if field.attname in later)
    params: list[list[Any] | None] = []
    for obj in objs:
        if plan.returns_pk and obj.pk is not None:  # a chosen id: Django's own path
            params.append(None)
            continue
        params.append(
            [
                None
                if field.attname in later
                else stored_value(field, field.pre_save(obj, True), db)
                for field in plan.fields
            ]
        )
    return Prepared(objs, alias, plan, params, late, post_save.has_listeners(model))


def insert_prepared(prepared: Prepared[M]) -> None:
    """Write rows :func:`prepare` worked out, and give them their primary keys."""
    plan, alias = prepared.plan, prepared.alias
    if plan is None:
        for obj in prepared.objs:
            obj.save(force_insert=True, using=alias)
        return
    db = connections[alias]
    for obj, params in zip(prepared.objs, prepared.params, strict=True):
        if params is None:
            obj.save(force_insert=True, using=alias)
            continue
        if prepared.later:
            # A related row saved since (the new ticket) gives its id, as save() takes it.
            related = [field for _, field in prepared.later]
            obj._prepare_related_fields_for_save("save", fields=related)  # type: ignore[attr-defined]
        for position, field in prepared.later:
            params[position] = stored_value(field, field.pre_save(obj, True), db)
        with executed(plan.sql, params, using=alias) as cursor:
            if plan.returns_pk:
                obj.pk = cursor.fetchone()[0]
        obj._state.adding = False
        obj._state.db = alias
        if prepared.announced:
            post_save.send(
                sender=type(obj),
                instance=obj,
                created=True,
                update_fields=None,
                raw=False,
                using=alias,
            )


@contextmanager
def executed(sql: str, params: Sequence[Any], *, using: str = "default") -> Iterator[Any]:
    """A cursor on which ``sql`` ran, for the statements this module and the hot paths build.

    On SQLite the statement runs on the connection's own cursor when nobody
    watches the queries: Django's cursor costs about 45 µs a statement, four
    times what SQLite then takes for a short INSERT. Where queries are
    logged (``DEBUG``, tests that count them) or wrapped, and on other
    databases, it runs through Django's cursor as any query does.
    """
    db = connections[using]
    if getattr(db, "bare_statements", False):  # our SQLite backend, nobody watching
        cursor = db.execute_bare(sql, params)  # type: ignore[attr-defined]
        try:
            yield cursor
        finally:
            cursor.close()
        return
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        yield cursor


def insert_batch(objs: Sequence[M]) -> None:
    """Write new rows for ``objs`` (all of one model, none with a chosen id), many per INSERT.

    What ``bulk_create`` does for such rows (no ``save()``, no signals), at a
    fraction of its cost per value: a value the rows share (the same time,
    status or empty text in each row of a mail batch) goes through its
    field's ``get_db_prep_save`` once (see :class:`_Converter`).
    """
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    db = connections[alias]
    plan = _plan(model, alias)
    value = _Converter(db, plan)

    size = max(db.ops.bulk_batch_size(list(plan.fields), objs), 1)
    for start in range(0, len(objs), size):
        chunk = objs[start : start + size]
        params = [stored for obj in chunk for stored in value.row(obj)]
        with executed(plan.rows_sql(len(chunk)), params, using=alias) as cursor:
            ids = [row[0] for row in cursor.fetchall()] if plan.returns_pk else []
        for index, obj in enumerate(chunk):
            if plan.returns_pk:
                obj.pk = ids[index]
            obj._state.adding = False
            obj._state.db = alias


class Stamp(Generic[M]):
    """New instances of one model that share most of their values, made quickly.

    ``Model(**values)`` walks every field through its descriptor: about
    20 µs for the 24 columns of an inbound message, paid again for each
    row of a mail import's batch. A stamp builds one instance the ordinary
    way from the values the rows share, and makes each row as a copy of it
    that takes its own values, at a tenth of the cost. A value a field
    draws afresh for each instance (a callable default, such as an empty
    list) is drawn for each copy.

    A copy is what the constructor would have made only for a model whose
    ``__init__`` is Django's, that nothing hears being constructed
    (``pre_init``, ``post_init``), whose fields are Django's own, held as
    plain attributes: any other model's rows are constructed one by one.
    Values go by attribute name (``blob_id``, not ``blob``), so no copy
    holds a related object of another row.
    """

    def __init__(self, model: type[M], **common: Any) -> None:
        fields = model._meta.concrete_fields
        self.model = model
        self.attnames = frozenset(field.attname for field in fields)
        self._refuse_unknown(common)
        self.common = common
        self.template = model(**common)
        self.copies = _copyable(model)
        self.fresh = tuple(
            (field.attname, field.get_default)
            for field in fields
            if field.attname not in common and field.has_default() and callable(field.default)
        )

    def make(self, **values: Any) -> M:
        """A new instance with the shared values and ``values`` (attribute names)."""
        self._refuse_unknown(values)
        if not self.copies:
            return self.model(**{**self.common, **values})
        obj = self.model.__new__(self.model)
        state = obj.__dict__
        state.update(self.template.__dict__)
        state["_state"] = ModelState()
        for attname, draw in self.fresh:
            state[attname] = draw()
        state.update(values)
        return obj

    def _refuse_unknown(self, values: dict[str, Any]) -> None:
        unknown = values.keys() - self.attnames
        if unknown:
            names = ", ".join(sorted(unknown))
            raise TypeError(f"{self.model.__name__} has no column attribute {names}")


def _copyable(model: type[Model]) -> bool:
    """Whether a copy of an instance is what ``model(**values)`` makes (see :class:`Stamp`)."""
    meta = model._meta
    if model.__init__ is not Model.__init__ or len(meta.fields) != len(meta.concrete_fields):
        return False
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return False
    return all(
        _djangos_own(field)
        and type(getattr(model, field.attname)) in (DeferredAttribute, ForeignKeyDeferredAttribute)
        for field in meta.concrete_fields
    )


def stored_value(field: Field, value: Any, db: Any) -> Any:  # type: ignore[type-arg]
    """``field.get_db_prep_save(value, db)``, without its cost where it changes nothing.

    Django's own text fields store a ``str`` as it is, its fields store None
    as NULL, and on SQLite its integer fields and keys to an integer id store
    an ``int`` as it is (PostgreSQL's driver is given a typed integer): the
    conversion (several calls deep, a few µs each time) is skipped for those,
    and made for every other value and field.
    """
    kind = type(value)
    if kind is str or kind is int or value is None:
        key = f"_stored_as_is_{db.vendor}"
        plain = field.__dict__.get(key)
        if plain is None:
            plain = field.__dict__[key] = _stored_as_is(field, db.vendor)
        if kind in plain:
            return value
    return field.get_db_prep_save(value, db)


_TEXT = (CharField, TextField)
_WHOLE = (IntegerField, AutoField, BigAutoField, SmallAutoField)


def _stored_as_is(field: Field, vendor: str) -> frozenset[type]:  # type: ignore[type-arg]
    """The value types ``field`` stores unchanged (see :func:`stored_value`)."""
    target = field.target_field if isinstance(field, ForeignKey) else field
    if not (_djangos_own(field) and _djangos_own(target)):
        return frozenset()
    kinds: set[type] = {type(None)}
    if isinstance(target, _TEXT):
        kinds.add(str)
    if isinstance(target, _WHOLE) and vendor == "sqlite":
        kinds.add(int)
    return frozenset(kinds)


class _Converter:
    """Each field's stored form of each value, converted once per value the rows share.

    Only where equal values are the same value (text, whole numbers, None, a
    moment for a date-time field; not ``Decimal("1.0")`` and ``Decimal("1.00")``), and
    only for Django's own fields, whose conversion follows from the value
    alone (an encrypted field draws a nonce for each value). For those
    fields, a column that holds the very same object as in the row before
    (rows of a batch built from one set of values) takes that row's stored
    form without a lookup.
    """

    def __init__(self, db: Any, plan: _Plan) -> None:
        self.db = db
        self.done: dict[tuple[int, type, Any], Any] = {}
        self.columns = tuple(
            zip(range(len(plan.fields)), plan.fields, plan.reads, plan.shared, strict=True)
        )
        self.last_given: list[Any] = [_MISSING] * len(plan.fields)
        self.last_stored: list[Any] = [None] * len(plan.fields)

    def row(self, obj: Model) -> list[Any]:
        """The stored form of each of ``obj``'s values, column by column."""
        values = obj.__dict__
        last_given, last_stored = self.last_given, self.last_stored
        row = []
        for position, field, attname, shared in self.columns:
            given = values[attname] if attname in values else field.pre_save(obj, True)
            if given is last_given[position]:
                row.append(last_stored[position])
                continue
            stored = self.stored(position, field, given, shared)
            if shared:  # one of Django's own fields: the same object, the same stored form
                last_given[position], last_stored[position] = given, stored
            row.append(stored)
        return row

    def stored(
        self,
        position: int,
        field: Field,  # type: ignore[type-arg]
        given: Any,
        shared: frozenset[type],
    ) -> Any:
        kind = type(given)
        if kind not in shared:
            return stored_value(field, given, self.db)
        key = (position, kind, given)
        stored = self.done.get(key, _MISSING)
        if stored is _MISSING:
            stored = self.done[key] = stored_value(field, given, self.db)
        return stored


_MISSING = object()
_PLAIN = frozenset({str, int, bool, type(None)})


def _shared_kinds(field: Field) -> frozenset[type]:  # type: ignore[type-arg]
    """The types of value whose stored form :class:`_Converter` may convert once for all rows."""
    if not _djangos_own(field):
        return frozenset()
    return _PLAIN | {dt.datetime} if isinstance(field, DateTimeField) else _PLAIN


def _reads_attribute(field: Field) -> bool:  # type: ignore[type-arg]
    """Whether ``field.pre_save(obj, add)`` only reads the value the instance holds.

    True for Django's own fields that keep ``Field.pre_save``: it reads the
    attribute, whose descriptor hands back what the instance's ``__dict__``
    holds.
    """
    return _djangos_own(field) and type(field).pre_save is Field.pre_save


def _djangos_own(field: Field) -> bool:  # type: ignore[type-arg]
    """One of Django's model fields, whose stored form follows from the value alone.

    Not a project's field such as the encrypted one, which draws a nonce for each value.
    """
    return type(field).__module__.startswith("django.db.models.fields")


def quoted_columns(model: type[Model]) -> dict[str, str]:
    """Each concrete field's column, quoted, by field name: for statements written by hand.

    Only names from the model's own metadata go into such a statement's
    text; values are always parameters.
    """
    quote = connection.ops.quote_name
    return {field.name: quote(field.column) for field in model._meta.concrete_fields}


def selected_columns(model: type[Model], alias: str) -> str:
    """Every concrete column of ``model`` under a table alias, quoted.

    For a SELECT whose rows :func:`first_instance` turns back into instances.
    """
    return ", ".join(f"{alias}.{column}" for column in quoted_columns(model).values())


def first_instance(
    model: type[M], sql: str, params: Sequence[Any]
) -> tuple[M, tuple[Any, ...]] | None:
    """The first row of ``sql`` as a ``model`` instance, with the columns selected after it.

    ``sql`` selects :func:`selected_columns` first. Each value goes through
    the converters the ORM would apply (the database's, then the field's);
    ``raw()`` works them out again for every query, at several times the
    cost of a lookup by key.
    """
    alias = router.db_for_read(model)
    db = connections[alias]
    with executed(sql, params, using=alias) as cursor:
        row = cursor.fetchone()
    if row is None:
        return None
    converters = _converters(model, alias)
    own, extra = row[: len(converters)], tuple(row[len(converters) :])
    values = [_converted(v, db, *c) for v, c in zip(own, converters, strict=True)]
    obj = model.from_db(alias, [field.attname for field in model._meta.concrete_fields], values)
    return obj, extra


def _converted(value: Any, db: Any, col: Any, functions: tuple[Any, ...]) -> Any:
    for function in functions:
        value = function(value, col, db)
    return value


@functools.cache
def _converters(model: type[Model], alias: str) -> tuple[tuple[Any, tuple[Any, ...]], ...]:
    """``(column expression, converters)`` of each concrete field, as a compiled query has them."""
    db = connections[alias]
    found = []
    for field in model._meta.concrete_fields:
        col = field.cached_col
        own = field.get_db_converters(db)  # type: ignore[attr-defined]
        found.append((col, (*db.ops.get_db_converters(col), *own)))
    return tuple(found)


@functools.cache
def _plan(model: type[Model], alias: str) -> _Plan:
    """The INSERT of ``model`` on one database."""
    quote = connections[alias].ops.quote_name
    meta = model._meta
    auto_pk = meta.auto_field is not None and meta.pk is meta.auto_field
    fields = tuple(field for field in meta.concrete_fields if not (auto_pk and field.primary_key))
    columns = ", ".join(quote(field.column) for field in fields)
    returning = f" RETURNING {quote(meta.pk.column)}" if auto_pk else ""  # type: ignore[union-attr]
    return _Plan(fields, f"INSERT INTO {quote(meta.db_table)} ({columns})", returning)
