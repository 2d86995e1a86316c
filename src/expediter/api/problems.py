"""Errors as ``application/problem+json`` (RFC 9457), mapped from domain errors."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse


def problem(status: int, title: str, detail: str, **extra: Any) -> HttpResponse:
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, **extra}
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


def validation_problem(request: HttpRequest, errors: list[dict[str, Any]]) -> HttpResponse:
    """A 422 whose detail names each faulty field (``body.subject``, ``query.limit``...)."""
    items = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        field = ".".join(loc[1:] if loc and loc[0] in ("query", "path") else loc) or "body"
        items.append({"field": field, "message": error.get("msg", "invalid")})
    detail = "; ".join(f"{i['field']}: {i['message']}" for i in items) or "invalid input"
    return problem(422, "Invalid input", detail, errors=items)
