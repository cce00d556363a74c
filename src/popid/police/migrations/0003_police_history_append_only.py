"""The police history tables are append-only in PostgreSQL (triggers, like core_accessrecord and
the ledger; SQLite has none): the chain of custody, the openings of case files (the supervisor's
audit), case events, notes and documents. UPDATE and DELETE are refused, so an edit in the
database fails; an edit made by someone able to drop the trigger (the owner) is still detected by
``popid police verify-custody`` for custody records. ``popid ledger db-roles`` also grants the
application role only SELECT and INSERT on them."""

from django.db import migrations

APPEND_ONLY = ["police_custodyrecord", "police_caseopening", "police_caseevent", "police_casenote",
               "police_casedocument"]

FUNCTION = """
CREATE OR REPLACE FUNCTION popid_police_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in APPEND_ONLY:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                              "FOR EACH ROW EXECUTE FUNCTION popid_police_append_only()")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS popid_police_append_only()")


class Migration(migrations.Migration):

    dependencies = [
        ("police", "0002_case_notes_documents_events_matcher_links"),
    ]

    operations = [migrations.RunPython(forward, backward)]
