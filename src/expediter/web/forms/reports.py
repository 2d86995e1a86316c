"""Choosing the period of a report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodForm(forms.Form):
    """A period of whole days in the desk's time zone, both ends included."""

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    @staticmethod
    def default_period() -> dict[str, dt.date]:
        today = timezone.localdate()
        return {"start": today.replace(day=1), "end": today}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """``[start, end)`` as aware instants: midnight of the first and after the last day."""
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(self.cleaned_data["start"], dt.time(), tzinfo=zone)
        end_day = self.cleaned_data["end"] + dt.timedelta(days=1)
        return start, dt.datetime.combine(end_day, dt.time(), tzinfo=zone)
