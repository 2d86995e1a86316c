"""A clock's ticket key loses its single-column index.

Two indexes lead with it already (the ``(ticket, kind)`` unique constraint
and ``sla_clock_ticket_due_idx``); only the index is dropped, so SQLite does
not copy the table.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "sla_slaclock_ticket_id_81c584d7"


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0002_fill_ticket_sla_due_at"),
        ("tickets", "0003_ticket_sla_due_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "sla_slaclock" ("ticket_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="slaclock",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sla_clocks",
                        to="tickets.ticket",
                    ),
                ),
            ],
        ),
    ]
