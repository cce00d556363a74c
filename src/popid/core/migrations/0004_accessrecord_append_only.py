"""core_accessrecord is append-only in PostgreSQL: a trigger refuses DELETE, and UPDATE except the
ledger sequencer stamping ``committed_at`` once (NULL → a time, every other column unchanged).
Records not yet committed to the ledger can then be neither edited nor removed without a trace;
together with the ``popid_app`` role (no TRUNCATE, no DDL, ``popid ledger db-roles``) the
application itself cannot rewrite history. SQLite (development, tests) has no trigger."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION popid_accessrecord_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.committed_at IS NULL AND NEW.committed_at IS NOT NULL
            AND to_jsonb(NEW) - 'committed_at' = to_jsonb(OLD) - 'committed_at' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'core_accessrecord is append-only: % refused (only the ledger sequencer may set committed_at, once)',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER IF EXISTS accessrecord_append_only ON core_accessrecord;
CREATE TRIGGER accessrecord_append_only BEFORE UPDATE OR DELETE ON core_accessrecord
    FOR EACH ROW EXECUTE FUNCTION popid_accessrecord_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS accessrecord_append_only ON core_accessrecord;
DROP FUNCTION IF EXISTS popid_accessrecord_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_accessrecord_uncommitted_index"),
    ]

    operations = [migrations.RunPython(forward, backward)]
