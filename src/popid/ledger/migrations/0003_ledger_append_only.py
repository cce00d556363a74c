"""The ledger's tables are append-only in PostgreSQL (triggers; SQLite has none):

- entries, tree nodes, checkpoints and signing keys: UPDATE and DELETE refused;
- the sequencer's own state (``ledgerstate``, ``ledgerpersonhead``, ``ledgermapnode``): DELETE
  refused, UPDATE allowed (the sequencer moves them forward each batch), but the log's size and a
  person's entry count may never go down. Their content is checked against the signed
  checkpoints and the records by ``popid ledger verify``.

The append-only triggers are written through ``core.append_only`` (the same statements this
migration first ran by hand).
"""

from django.db import migrations

from popid.core import append_only

APPEND_ONLY = ["ledger_ledgerentry", "ledger_ledgernode", "ledger_checkpoint", "ledger_ledgerpublickey"]
NO_DELETE = ["ledger_ledgerstate", "ledger_ledgerpersonhead", "ledger_ledgermapnode"]

FORWARD_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION popid_ledger_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% keeps the sequencer''s state: DELETE refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW)->>'size')::bigint < (to_jsonb(OLD)->>'size')::bigint
            OR (to_jsonb(NEW)->>'next_seq')::bigint < (to_jsonb(OLD)->>'next_seq')::bigint THEN
        RAISE EXCEPTION '% only moves forward: UPDATE refused', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    append_only.install(schema_editor, APPEND_ONLY, function="popid_ledger_append_only")
    schema_editor.execute(FORWARD_ONLY_FUNCTION, params=None)
    for table in NO_DELETE:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_forward_only ON {table}")
        schema_editor.execute(f"CREATE TRIGGER {table}_forward_only BEFORE UPDATE OR DELETE ON {table} "
                              "FOR EACH ROW EXECUTE FUNCTION popid_ledger_forward_only()")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    append_only.uninstall(schema_editor, APPEND_ONLY)
    for table in NO_DELETE:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_forward_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS popid_ledger_append_only(); "
                          "DROP FUNCTION IF EXISTS popid_ledger_forward_only();")


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0002_person_map"),
        ("core", "0004_accessrecord_append_only"),
    ]

    operations = [migrations.RunPython(forward, backward)]
