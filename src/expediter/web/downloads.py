"""Serving stored attachments safely.

Everything is sent as a download (never rendered inline on our origin)
except images of harmless types, with ``nosniff`` and a sandboxing CSP.
"""

from __future__ import annotations

from django.http import FileResponse

from expediter.tickets.models import Attachment
from expediter.tickets.storage import blob_open

INLINE_SAFE = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def attachment_response(attachment: Attachment, *, inline: bool = False) -> FileResponse:
    content_type = attachment.content_type if attachment.content_type in INLINE_SAFE else None
    response = FileResponse(
        blob_open(attachment.blob),
        as_attachment=not (inline and content_type),
        filename=attachment.filename,
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
