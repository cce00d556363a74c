"""Reveals of "hidden until" access records are append-only in PostgreSQL (a reveal cannot be
withdrawn): the ledger's append-only trigger function (0003) on ``ledger_accessreveal``."""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS ledger_accessreveal_append_only ON ledger_accessreveal")
    schema_editor.execute("CREATE TRIGGER ledger_accessreveal_append_only BEFORE UPDATE OR DELETE ON "
                          "ledger_accessreveal FOR EACH ROW EXECUTE FUNCTION popid_ledger_append_only()")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS ledger_accessreveal_append_only ON ledger_accessreveal")


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0004_access_reveal"),
    ]

    operations = [migrations.RunPython(forward, backward)]
