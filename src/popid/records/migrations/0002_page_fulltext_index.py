"""PostgreSQL only: the page's tsvector as a stored generated column over the accent-free text
(config ``simple``: no stemming, no stop words, so Vietnamese syllables stay as they are) and a GIN
index on it. Stored, so a plan that filters rows (e.g. walking the newest pages first) does not
re-parse each page. Django does not know the column: rows are written as usual and PostgreSQL
fills it. SQLite searches ``text_norm`` with substrings. The statements come from ``core.fulltext.tsvector_sql``
(the same ones this migration first listed by hand)."""

from django.db import migrations

from popid.core import fulltext

FORWARD, BACKWARD = fulltext.tsvector_sql(table="records_recordpage", source="text_norm", column="text_tsv",
                                          index="records_page_fts")


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
