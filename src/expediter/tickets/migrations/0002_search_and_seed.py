"""Full-text index per database, the ticket number counter, the default matrix."""

from django.db import migrations

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE tickets_fts USING fts5("
    "text, content='tickets_ticketsearchtext', content_rowid='ticket_id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets_ticketsearchtext BEGIN "
    "INSERT INTO tickets_fts(rowid, text) VALUES (new.ticket_id, new.text); END",
    "CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets_ticketsearchtext BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, text) VALUES ('delete', old.ticket_id, old.text); END",
    "CREATE TRIGGER tickets_fts_au AFTER UPDATE ON tickets_ticketsearchtext BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, text) VALUES ('delete', old.ticket_id, old.text); "
    "INSERT INTO tickets_fts(rowid, text) VALUES (new.ticket_id, new.text); END",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS tickets_fts_au",
    "DROP TRIGGER IF EXISTS tickets_fts_ad",
    "DROP TRIGGER IF EXISTS tickets_fts_ai",
    "DROP TABLE IF EXISTS tickets_fts",
]
POSTGRES_FTS = [
    "CREATE INDEX tickets_search_fts ON tickets_ticketsearchtext "
    "USING gin (to_tsvector('simple', text))",
]
POSTGRES_FTS_DROP = ["DROP INDEX IF EXISTS tickets_search_fts"]

DEFAULT_MATRIX = {
    (1, 1): 1, (1, 2): 1, (1, 3): 2, (1, 4): 3,
    (2, 1): 1, (2, 2): 2, (2, 3): 3, (2, 4): 3,
    (3, 1): 2, (3, 2): 3, (3, 3): 3, (3, 4): 4,
    (4, 1): 3, (4, 2): 3, (4, 3): 4, (4, 4): 4,
}  # fmt: skip


def _run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return apply


def seed(apps, schema_editor):
    apps.get_model("tickets", "TicketNumber").objects.get_or_create(id=1, defaults={"value": 0})
    rule = apps.get_model("tickets", "PriorityRule")
    for (impact, urgency), priority in DEFAULT_MATRIX.items():
        rule.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FTS, "postgresql": POSTGRES_FTS}),
            _run({"sqlite": SQLITE_FTS_DROP, "postgresql": POSTGRES_FTS_DROP}),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
