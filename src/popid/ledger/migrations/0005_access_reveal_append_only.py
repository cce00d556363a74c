"""Reveals of "hidden until" access records are append-only in PostgreSQL (a reveal cannot be
withdrawn): the ledger's append-only trigger function (0003) on ``ledger_accessreveal``."""

from django.db import migrations

from popid.core import append_only


def forward(apps, schema_editor):
    append_only.install(schema_editor, ["ledger_accessreveal"], function="popid_ledger_append_only",
                        create_function=False)


def backward(apps, schema_editor):
    append_only.uninstall(schema_editor, ["ledger_accessreveal"])


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0004_access_reveal"),
    ]

    operations = [migrations.RunPython(forward, backward)]
