"""``/worklogs``: who spent how long on what."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from expediter.api.pagination import paginate
from expediter.api.params import parse_instant
from expediter.api.presenters import worklog_out
from expediter.tickets import selectors

router = Router(tags=["worklogs"])


class WorklogQuery(Schema):
    agent: int | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    cursor: str | None = None
    limit: int | None = None


@router.get("/worklogs", response=dict, summary="Worklogs on visible tickets")
def list_worklogs(request: HttpRequest, filters: Query[WorklogQuery]) -> dict[str, Any]:
    worklogs = selectors.worklog_list_visible(
        user=request.auth,  # type: ignore[attr-defined]
        agent_id=filters.agent,
        start=parse_instant(filters.from_, field="from"),
        end=parse_instant(filters.to, field="to"),
    )
    return paginate(
        worklogs,
        cursor=filters.cursor,
        limit=filters.limit,
        present=worklog_out,
        newest_first=False,
    )
