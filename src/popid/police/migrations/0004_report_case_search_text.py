"""Free-text search of reports and case files in the database (no longer in Python over the newest
rows): an accent-free ``search_text`` on reports and cases, filled here for the existing rows (the
same builder the services call after every write, ``police.searchtext``), and on PostgreSQL a
stored generated tsvector over it with a GIN index (``core.fulltext.tsvector_sql``, config
``simple``). SQLite matches substrings of ``search_text``."""

from django.db import migrations, models

from popid.core import fulltext
from popid.police import searchtext

TSV = [fulltext.tsvector_sql(table="police_report", source="search_text", column="search_tsv",
                             index="police_report_fts"),
       fulltext.tsvector_sql(table="police_case", source="search_text", column="search_tsv",
                             index="police_case_fts")]
BATCH = 1000


def fill(apps, schema_editor):
    for name, build in (("Report", searchtext.report_text), ("Case", searchtext.case_text)):
        model = apps.get_model("police", name)
        qs = model.objects.order_by("pk")
        if name == "Case":
            qs = qs.select_related("report")
        last = 0
        while True:
            rows = list(qs.filter(pk__gt=last)[:BATCH])
            if not rows:
                break
            for row in rows:
                row.search_text = build(row)
            model.objects.bulk_update(rows, ["search_text"])
            last = rows[-1].pk


def add_tsv(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for forward, _backward in TSV:
            for sql in forward:
                schema_editor.execute(sql)


def drop_tsv(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _forward, backward in TSV:
            for sql in backward:
                schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("police", "0003_police_history_append_only"),
    ]

    operations = [
        migrations.AddField(model_name="report", name="search_text",
                            field=models.TextField(blank=True, default="", editable=False)),
        migrations.AddField(model_name="case", name="search_text",
                            field=models.TextField(blank=True, default="", editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(add_tsv, drop_tsv),
    ]
