"""Attachment downloads, for whoever may see the ticket."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from ninja import Router

from expediter.tickets import selectors
from expediter.web.downloads import attachment_response

router = Router(tags=["attachments"])


@router.get("/attachments/{attachment_id}", url_name="attachment_download", response=None)
def download(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = selectors.attachment_get_visible(
        user=request.auth,  # type: ignore[attr-defined]
        attachment_id=attachment_id,
    )
    return attachment_response(attachment)
