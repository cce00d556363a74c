"""PostgreSQL only: the page's tsvector as a stored generated column over the accent-free text
(config ``simple``: no stemming, no stop words, so Vietnamese syllables stay as they are) and a GIN
index on it. Stored, so a plan that filters rows (e.g. walking the newest pages first) does not
re-parse each page. Django does not know the column: rows are written as usual and PostgreSQL
fills it. SQLite searches ``text_norm`` with substrings."""

from django.db import migrations

FORWARD = [
    "ALTER TABLE records_recordpage ADD COLUMN text_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text_norm)) STORED",
    "CREATE INDEX records_page_fts ON records_recordpage USING gin (text_tsv)",
]
BACKWARD = ["DROP INDEX IF EXISTS records_page_fts", "ALTER TABLE records_recordpage DROP COLUMN IF EXISTS text_tsv"]


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
