"""Storing the files that come with an article."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from expediter.core.errors import InvalidInput
from expediter.core.rows import insert
from expediter.tickets.models import Article, Attachment
from expediter.tickets.storage import blob_store


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    data: bytes
    content_type: str = ""
    content_id: str = ""
    inline: bool = False


def _safe_filename(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"\r\n')
    return name.strip()[:255] or "attachment"


def attachments_store(
    *, article: Article, attachments: Sequence[NewAttachment], enforce_limit: bool = True
) -> list[Attachment]:
    """Store each file content-addressed and attach it to ``article``.

    Mail intake passes ``enforce_limit=False``: a message already accepted
    under the mail size limit keeps every byte it brought.
    """
    limit = settings.ATTACHMENT_MAX_BYTES
    stored = []
    for item in attachments:
        if enforce_limit and len(item.data) > limit:
            raise InvalidInput(
                _("%(name)s is larger than %(size)s MB")
                % {"name": item.filename, "size": limit // (1024 * 1024)},
                field="attachments",
            )
        filename = _safe_filename(item.filename)
        content_type = (
            item.content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )
        stored.append(
            insert(
                Attachment(
                    article=article,
                    blob=blob_store(item.data),
                    filename=filename,
                    content_type=content_type[:150],
                    size=len(item.data),
                    content_id=item.content_id[:255],
                    inline=item.inline,
                )
            )
        )
    return stored
