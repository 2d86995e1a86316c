"""Fill ``Ticket.sla_due_at`` from the stored clocks of existing tickets."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    ticket_model = apps.get_model("tickets", "Ticket")
    clock_model = apps.get_model("sla", "SlaClock")
    running = clock_model.objects.filter(
        ticket=OuterRef("pk"), status="running", due_at__isnull=False
    ).order_by("due_at")
    ticket_model.objects.update(sla_due_at=Subquery(running.values("due_at")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("tickets", "0003_ticket_sla_due_at"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
