"""The police history tables are append-only in PostgreSQL (triggers, like core_accessrecord and
the ledger; SQLite has none): the chain of custody, the openings of case files (the supervisor's
audit), case events, notes and documents. UPDATE and DELETE are refused, so an edit in the
database fails; an edit made by someone able to drop the trigger (the owner) is still detected by
``popid police verify-custody`` for custody records. ``popid ledger db-roles`` also grants the
application role only SELECT and INSERT on them.

Written through ``core.append_only`` (the same statements this migration first ran by hand)."""

from django.db import migrations

from popid.core import append_only

APPEND_ONLY = ["police_custodyrecord", "police_caseopening", "police_caseevent", "police_casenote",
               "police_casedocument"]

FUNCTION = "popid_police_append_only"


def forward(apps, schema_editor):
    append_only.install(schema_editor, APPEND_ONLY, function=FUNCTION)


def backward(apps, schema_editor):
    append_only.uninstall(schema_editor, APPEND_ONLY, function=FUNCTION)


class Migration(migrations.Migration):

    dependencies = [
        ("police", "0002_case_notes_documents_events_matcher_links"),
    ]

    operations = [migrations.RunPython(forward, backward)]
