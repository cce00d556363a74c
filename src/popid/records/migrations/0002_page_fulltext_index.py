"""PostgreSQL only: a GIN full-text index over the accent-free page text (config ``simple``: no
stemming, no stop words, so Vietnamese syllables stay as they are). SQLite searches with substrings."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS records_page_fts ON records_recordpage "
    "USING gin (to_tsvector('simple'::regconfig, text_norm))",
]
BACKWARD = ["DROP INDEX IF EXISTS records_page_fts"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("records", "0001_scanned_records_pages_links")]

    operations = [migrations.RunPython(forward, backward)]
