"""Form fields the desk needs beyond Django's own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from expediter.tickets.services import NewAttachment


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once; each is refused beyond the desk's attachment limit."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", gettext_lazy("Attachments"))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(AttachmentsField, self).clean(item, initial) for item in items]
        limit = settings.ATTACHMENT_MAX_BYTES
        for upload in files:
            if upload.size is not None and upload.size > limit:
                raise forms.ValidationError(
                    _("%(name)s is larger than %(limit)s.")
                    % {"name": upload.name, "limit": filesizeformat(limit)}
                )
        return files


def as_new_attachments(files: list[UploadedFile]) -> list[NewAttachment]:
    """Uploaded files as the services take them (the type is re-guessed from the name)."""
    return [
        NewAttachment(filename=upload.name or "attachment", data=upload.read()) for upload in files
    ]
