"""Infrastructure state only: no domain knowledge lives here."""

from __future__ import annotations

from django.db import models


class PeriodicJob(models.Model):
    """When a periodic job is next due; workers claim a run with one UPDATE."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
