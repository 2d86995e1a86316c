"""New rows written with an INSERT built once per model, for the hot paths.

Opening a ticket writes five or six rows, whichever channel it comes from.
``Model.save()`` rebuilds each INSERT from scratch: it clones a query,
compiles it and quotes every column again, which costs several times what
SQLite then takes to run the statement. :func:`insert` keeps the statement
per model and database, and only prepares the values; the values go through
each field's own ``pre_save`` and ``get_db_prep_save``, as ``save()`` does.

A model that anything listens to (``pre_save``/``post_save``) is saved the
ordinary way, so no receiver is ever skipped. A model's own ``save()`` is
not called for a new row: use this only for models whose ``save()`` adds
nothing to an insert (``TicketEvent.save()`` only refuses updates, and a row
that already has an id goes through ``save()`` here too).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import connection, connections, router
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Plan:
    fields: tuple[Field, ...]  # type: ignore[type-arg]
    sql: str
    returns_pk: bool


def insert(obj: M) -> M:
    """Write a new row for ``obj`` and give it its primary key."""
    insert_all([obj])
    return obj


def insert_all(objs: Sequence[M]) -> None:
    """Write new rows for ``objs`` (all of one model), one statement each."""
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        for obj in objs:
            obj.save(force_insert=True, using=alias)
        return
    db = connections[alias]
    plan = _plan(model, alias)
    with db.cursor() as cursor:
        for obj in objs:
            if plan.returns_pk and obj.pk is not None:  # a chosen id: Django's own path
                obj.save(force_insert=True, using=alias)
                continue
            params = [
                field.get_db_prep_save(field.pre_save(obj, True), db) for field in plan.fields
            ]
            cursor.execute(plan.sql, params)
            if plan.returns_pk:
                obj.pk = cursor.fetchone()[0]
            obj._state.adding = False
            obj._state.db = alias


def selected_columns(model: type[Model], alias: str) -> str:
    """Every concrete column of ``model`` under a table alias, quoted.

    For a SELECT whose rows ``Model.objects.raw()`` turns back into instances.
    """
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


@functools.cache
def _plan(model: type[Model], alias: str) -> _Plan:
    """The INSERT of ``model`` on one database."""
    quote = connections[alias].ops.quote_name
    meta = model._meta
    auto_pk = meta.auto_field is not None and meta.pk is meta.auto_field
    fields = tuple(field for field in meta.concrete_fields if not (auto_pk and field.primary_key))
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    if auto_pk:
        sql += f" RETURNING {quote(meta.pk.column)}"  # type: ignore[union-attr]
    return _Plan(fields=fields, sql=sql, returns_pk=auto_pk)
