"""``/mail/...`` and ``/notifications``: the mail channel for administrators, and
each person's notifications.

Administrators list quarantined and ignored mail (with the reason), download
a message as received, release or delete it, and watch the outbox; everyone
reads and clears their own notifications. Thin adapters over
``expediter.mail``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Router, Status

from expediter.api.auth import request_user, require_admin
from expediter.api.pagination import paginate
from expediter.api.presenters import iso
from expediter.core.errors import InvalidInput, NotFound
from expediter.mail import notify, outbox
from expediter.mail import selectors as mail_selectors
from expediter.mail import services as mail_services
from expediter.mail.models import (
    FailingAddress,
    InboundMessage,
    InboundStatus,
    Notification,
    OutboundMessage,
    OutboundStatus,
)
from expediter.staff.models import User
from expediter.tickets.storage import blob_read

router = Router(tags=["mail"])


def _admin(request: HttpRequest) -> User:
    return require_admin(request, what=gettext_noop("see the desk's mail"))


def inbound_document(row: InboundMessage) -> dict[str, Any]:
    return {
        "id": row.pk,
        "status": row.status,
        "reason": row.reason or None,
        "last_error": row.last_error or None,
        "kind": row.kind or None,
        "evidence": row.evidence,
        "from": {"name": row.from_name, "email": row.from_email},
        "subject": row.subject,
        "message_id": row.message_id or None,
        "size": row.size,
        "source": row.source,
        "received_at": iso(row.received_at),
        "processed_at": iso(row.processed_at),
        "ticket": row.ticket_id,
        "article": row.article_id,
    }


def outbound_document(row: OutboundMessage) -> dict[str, Any]:
    return {
        "id": row.pk,
        "kind": row.kind,
        "status": row.status,
        "to": row.to,
        "cc": row.cc,
        "subject": row.subject,
        "message_id": row.message_id,
        "ticket": row.ticket_id,
        "auto": row.auto,
        "attempts": row.attempts,
        "last_error": row.last_error or None,
        "created_at": iso(row.created_at),
        "sent_at": iso(row.sent_at),
    }


def _status(value: str | None, allowed: list[str], field: str = "status") -> list[str] | None:
    if value is None:
        return None
    if value not in allowed:
        raise InvalidInput(
            _("status must be one of %(known)s") % {"known": ", ".join(allowed)}, field=field
        )
    return [value]


@router.get("/mail/inbound", response=dict, summary="Received mail (admins)")
def list_inbound(
    request: HttpRequest,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    _admin(request)
    statuses = _status(status, list(InboundStatus.values)) or [
        InboundStatus.QUARANTINED,
        InboundStatus.IGNORED,
    ]
    return paginate(
        mail_selectors.inbound_list(statuses=statuses),
        cursor=cursor,
        limit=limit,
        present=inbound_document,
        newest_first=True,
    )


def _inbound(inbound_id: int) -> InboundMessage:
    row = mail_selectors.inbound_get(inbound_id=inbound_id)
    if row is None:
        raise NotFound(_("inbound message %(id)s not found") % {"id": inbound_id})
    return row


@router.get("/mail/inbound/{inbound_id}", response=dict, summary="One received message")
def get_inbound(request: HttpRequest, inbound_id: int) -> dict[str, Any]:
    _admin(request)
    return inbound_document(_inbound(inbound_id))


@router.get("/mail/inbound/{inbound_id}/raw", summary="The message exactly as received")
def get_inbound_raw(request: HttpRequest, inbound_id: int) -> HttpResponse:
    _admin(request)
    row = _inbound(inbound_id)
    response = HttpResponse(blob_read(row.blob), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{row.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/mail/inbound/{inbound_id}/release", response=dict, summary="Process it anyway")
def release_inbound(request: HttpRequest, inbound_id: int) -> dict[str, Any]:
    actor = _admin(request)
    _inbound(inbound_id)
    result = mail_services.inbound_release(inbound_id=inbound_id, actor=actor)
    return result.as_json() | {"inbound": result.inbound}


@router.delete("/mail/inbound/{inbound_id}", response={204: None}, summary="Delete it")
def delete_inbound(request: HttpRequest, inbound_id: int) -> Status[None]:
    actor = _admin(request)
    _inbound(inbound_id)
    mail_services.inbound_delete(inbound_id=inbound_id, actor=actor)
    return Status(204, None)


@router.get("/mail/outbox", response=dict, summary="Outbound mail (admins)")
def list_outbox(
    request: HttpRequest,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    _admin(request)
    return paginate(
        mail_selectors.outbox_list(statuses=_status(status, list(OutboundStatus.values))),
        cursor=cursor,
        limit=limit,
        present=outbound_document,
        newest_first=True,
    )


@router.post(
    "/mail/outbox/{message_id}/retry", response=dict, summary="Send a failed message again"
)
def retry_outbox(request: HttpRequest, message_id: int) -> dict[str, Any]:
    _admin(request)
    if not OutboundMessage.objects.filter(pk=message_id).exists():
        raise NotFound(_("outbound message %(id)s not found") % {"id": message_id})
    return outbound_document(outbox.outbox_retry(message_pk=message_id))


def failing_document(row: FailingAddress) -> dict[str, Any]:
    return {
        "id": row.pk,
        "address": row.address,
        "bounces": row.bounces,
        "first_failed_at": iso(row.first_failed_at),
        "last_failed_at": iso(row.last_failed_at),
    }


@router.get("/mail/failing-addresses", response=dict, summary="Addresses that bounce")
def list_failing(
    request: HttpRequest, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    _admin(request)
    return paginate(
        mail_selectors.failing_address_list(),
        cursor=cursor,
        limit=limit,
        present=failing_document,
        newest_first=True,
    )


def notification_document(row: Notification) -> dict[str, Any]:
    return {
        "id": row.pk,
        "kind": row.kind,
        "text": row.text,
        "ticket": row.ticket_id,
        "created_at": iso(row.created_at),
        "read_at": iso(row.read_at),
    }


@router.get("/notifications", response=dict, summary="My notifications")
def list_notifications(
    request: HttpRequest,
    unread: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    return paginate(
        mail_selectors.notification_list(user=request_user(request), unread_only=unread),
        cursor=cursor,
        limit=limit,
        present=notification_document,
        newest_first=True,
    )


@router.post("/notifications/read", response=dict, summary="Mark my notifications read")
def read_notifications(request: HttpRequest) -> dict[str, Any]:
    return {"marked": notify.notifications_mark_read(user=request_user(request))}
