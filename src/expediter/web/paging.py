"""Pages of long ordered lists that cost the same whatever the list's length."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.utils.functional import cached_property

RowT = TypeVar("RowT", bound=Model)

COUNT_UP_TO = 10_000  # beyond it a queue says "more than 10,000"


class CountingUpTo(Paginator):
    """A paginator that counts rows only up to a bound.

    Counting every open ticket of a large desk walks an index entry per
    ticket, the dearest part of a queue page at 100,000 tickets, to print a
    figure nobody reads past the first digits. The bound is the larger of
    ``COUNT_UP_TO`` and the end of the page asked for, so every page can be
    reached and "Next" shows while rows remain.
    """

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, up_to: int) -> None:
        super().__init__(object_list, per_page)
        self.rows = object_list
        self.up_to = up_to

    @cached_property
    def count(self) -> int:
        # Unordered and sliced: COUNT over a LIMIT subquery, served by an index alone.
        return self.rows.order_by()[: self.up_to + 1].count()

    @property
    def count_is_lower_bound(self) -> bool:
        """True when there are more rows than were counted ("more than ``up_to``")."""
        return self.count > self.up_to


def page_by_keys(queryset: QuerySet[RowT], number: Any, per_page: int) -> Page:
    """The page ``number`` of an ordered queryset, found by primary keys first.

    Selecting only the keys lets the database walk an index in the list's
    order and stop after one page; selecting whole rows with their joins
    makes SQLite's planner sort every candidate row of a 100,000-ticket queue
    instead. The page's rows are then loaded by key (with the queryset's
    joins) and put back in order: two queries plus the bounded count
    (:class:`CountingUpTo`), at any size.
    """
    up_to = max(COUNT_UP_TO, _wanted(number) * per_page)
    keys_query = queryset.values_list("pk", flat=True)
    page = CountingUpTo(keys_query, per_page, up_to=up_to).get_page(number)
    keys = list(page.object_list)
    rows = {row.pk: row for row in queryset.order_by().filter(pk__in=keys)}
    page.object_list = [rows[key] for key in keys if key in rows]
    return page


def _wanted(number: Any) -> int:
    """The page number asked for, as ``Paginator.get_page`` would read it (1 if unreadable)."""
    try:
        return max(int(number), 1)
    except (TypeError, ValueError):
        return 1
