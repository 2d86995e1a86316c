"""Requester, team and assignee lose the single-column index Django gave each key.

Each leads a two-column index already (``ticket_requester_idx``,
``ticket_team_idx``, ``ticket_assignee_idx``), which serves the same
lookups; every new ticket wrote three B-trees for nothing. Only the indexes
are dropped: altering the fields themselves would copy the whole table on
SQLite, three times.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

COVERED = {  # key column: the index Django named for it
    "requester_id": "tickets_ticket_requester_id_2072a2f2",
    "team_id": "tickets_ticket_team_id_5a4e7469",
    "assignee_id": "tickets_ticket_assignee_id_3a5aa407",
}


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_user_email_lower_idx"),
        ("tickets", "0003_ticket_sla_due_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "tickets_ticket" ("{column}")',
                )
                for column, name in COVERED.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_tickets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="requester",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="requested_tickets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="tickets",
                        to="staff.team",
                    ),
                ),
            ],
        ),
    ]
