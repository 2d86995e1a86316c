"""Pages of long ordered lists that cost the same whatever the list's length."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet

RowT = TypeVar("RowT", bound=Model)


def page_by_keys(queryset: QuerySet[RowT], number: Any, per_page: int) -> Page:
    """The page ``number`` of an ordered queryset, found by primary keys first.

    Selecting only the keys lets the database walk an index in the list's
    order and stop after one page; selecting whole rows with their joins
    makes SQLite's planner sort every candidate row of a 100,000-ticket queue
    instead. The page's rows are then loaded by key (with the queryset's
    joins) and put back in order: two queries plus the count, at any size.
    """
    page = Paginator(queryset.values_list("pk", flat=True), per_page).get_page(number)
    keys = list(page.object_list)
    rows = {row.pk: row for row in queryset.order_by().filter(pk__in=keys)}
    page.object_list = [rows[key] for key in keys if key in rows]
    return page
