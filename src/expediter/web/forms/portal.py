"""The requester's forms: a new request and a reply."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from expediter.tickets.models import Service
from expediter.tickets.services.tickets import SUBJECT_MAX
from expediter.web.forms.fields import AttachmentsField
from expediter.web.forms.ticket import IMPACT_CHOICES, URGENCY_CHOICES, MessageForm


class RequestForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("What is it about?"),
        queryset=Service.objects.filter(is_active=True).order_by("name"),
        to_field_name="name",
        required=False,
        empty_label=_("I don't know"),
    )
    impact = forms.TypedChoiceField(
        label=_("Who is affected?"), choices=IMPACT_CHOICES, coerce=int, initial=3
    )
    urgency = forms.TypedChoiceField(
        label=_("How urgent is it?"), choices=URGENCY_CHOICES, coerce=int, initial=3
    )
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What happened, what you expected, and any error message."),
    )
    attachments = AttachmentsField()


class PortalReplyForm(MessageForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].label = _("Your reply")
