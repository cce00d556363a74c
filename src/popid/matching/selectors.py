"""Reads for clerical review. The queue lists pairs without personal data; opening a pair
shows both records and records an access for each (``core.access.record_access``)."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
from django.db import connection
from django.db.models import Q, QuerySet

from popid.core.access import AccessContext, Actor, record_access
from popid.core.models import ScopeLevel
from popid.matching.errors import PairNotFound
from popid.matching.models import CandidatePair, PairStatus

REVIEW_FIELDS = ["full_name", "birth_date", "sex", "id_number", "old_id_number", "birth_place", "hometown",
                 "phone", "commune_code", "residences", "relations"]


QUEUE_COLUMNS = ("match_probability", "band", "status", "uncertainty", "left__commune_code", "right__commune_code")


def _visible(actor: Actor) -> Q:
    return actor.jurisdiction_q("left__commune_code") | actor.jurisdiction_q("right__commune_code")


def review_queue(*, actor: Actor, limit: int = 100) -> QuerySet[CandidatePair]:
    """Open pairs in the actor's jurisdiction, most uncertain first. Communes see pending pairs;
    provinces and the nation also see the pairs communes escalated as unsure."""
    statuses = [PairStatus.PENDING] if actor.level == ScopeLevel.COMMUNE else [PairStatus.UNSURE, PairStatus.PENDING]
    return (CandidatePair.objects.filter(_visible(actor), status__in=statuses)
            .select_related("left", "right").only(*QUEUE_COLUMNS)  # the communes shown, no personal data
            .order_by("-status", "uncertainty", "pk")[:limit])


def access_pair(*, ctx: AccessContext, pair_id: int) -> CandidatePair:
    """One pair with both persons, jurisdiction-checked; both reads are recorded."""
    pair = (CandidatePair.objects.select_related("left", "right").filter(_visible(ctx.actor), pk=pair_id).first())
    if pair is None:
        raise PairNotFound(field="pair")
    record_access(ctx=ctx, person_id_numbers=[pair.left.id_number, pair.right.id_number], fields=REVIEW_FIELDS)
    return pair


# --- the persons the registry run scores ------------------------------------------------------
def _person_sql() -> str:
    """Living persons with the name of their (latest active) father and mother relation: one
    statement, hash joins, no ORM objects."""
    from popid.matching.records import PERSON_VALUES

    columns = ", ".join(f"p.{c}" for c in PERSON_VALUES)
    parents = " ".join(
        f"LEFT JOIN (SELECT person_id, MAX(id) AS rid FROM registry_familyrelation WHERE kind = '{kind}' "  # noqa: S608
        f"AND ended_on IS NULL AND relative_name <> '' GROUP BY person_id) {kind[0]}k ON {kind[0]}k.person_id = p.id "
        f"LEFT JOIN registry_familyrelation {kind[0]} ON {kind[0]}.id = {kind[0]}k.rid"
        for kind in ("father", "mother"))  # fixed names, no input
    return (f"SELECT {columns}, f.relative_name AS father_name, m.relative_name AS mother_name "  # noqa: S608
            f"FROM registry_person p {parents} WHERE p.status = 'alive' ORDER BY p.id")


def registry_person_table() -> pa.Table:
    """Every living person's matching columns (``records.PERSON_TABLE_COLUMNS``) as an Arrow
    table. PostgreSQL streams them with ``COPY … TO STDOUT`` into Arrow's CSV reader (a million
    persons in seconds, no Python object per row); other databases through a cursor."""
    from popid.matching.records import PERSON_TABLE_COLUMNS

    sql = _person_sql()
    strings = dict.fromkeys(PERSON_TABLE_COLUMNS, pa.string())
    strings.update(id=pa.int64(), birth_year=pa.int32())
    schema = pa.schema(list(strings.items()))
    if connection.vendor == "postgresql":
        import pyarrow.csv as pacsv

        buffer = io.BytesIO()
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        buffer.seek(0)
        return pacsv.read_csv(
            buffer, read_options=pacsv.ReadOptions(column_names=list(PERSON_TABLE_COLUMNS), block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(column_types=schema, null_values=[""],
                                                 strings_can_be_null=True, quoted_strings_can_be_null=False))
    columns: list[list[Any]] = [[] for _ in PERSON_TABLE_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(20_000):
            for values, row_values in zip(columns, zip(*rows, strict=True), strict=True):
                values.extend(row_values)
    arrays = [pa.array([None if v is None else str(v) for v in values], pa.string()) if t == pa.string()
              else pa.array(values, t) for values, t in zip(columns, schema.types, strict=True)]
    return pa.table(arrays, schema=schema)
