"""Canonical match records: what the engine compares, built from a CSV row (by role) or from a
registry person.

Every record has the same columns (``COLUMNS``); a role the source does not have leaves its
columns empty, and the engine compares only the features the source has (``features``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from popid.core import admin_units
from popid.matching.normalise import (
    UnparseableDate,
    name_parts,
    parse_birth_date,
    parse_document_id,
    parse_phone,
    parse_sex,
    plain_text,
)

ROLES = ("full_name", "given_name", "family_name", "birth_date", "birth_year", "sex", "address", "locality",
         "region", "postcode", "document_id", "phone")
REPEATABLE_ROLES = frozenset({"address"})

SCHEMA = pa.schema([
    ("unique_id", pa.string()),
    ("name_exact", pa.string()), ("name_plain", pa.string()), ("name_sorted", pa.string()),
    ("family", pa.string()), ("middle", pa.string()), ("given", pa.string()),
    ("birth_date", pa.string()), ("birth_year", pa.int32()), ("birth_month", pa.int32()), ("birth_day", pa.int32()),
    ("sex", pa.string()),
    ("id_new", pa.string()), ("id_old", pa.string()),
    ("commune", pa.string()), ("province", pa.string()),
    ("postcode", pa.string()), ("locality", pa.string()), ("region", pa.string()),
    ("address", pa.string()), ("phone", pa.string()),
    # registry only: parents' names (accent-free), birth registration place (2025 codes), hometown
    ("father", pa.string()), ("mother", pa.string()),
    ("birth_commune", pa.string()), ("birth_province", pa.string()), ("hometown", pa.string()),
])
COLUMNS = tuple(SCHEMA.names)

# role -> feature compared by the model
ROLE_FEATURE = {
    "full_name": "name", "given_name": "name", "family_name": "name", "birth_date": "birth", "birth_year": "birth",
    "sex": "sex", "document_id": "document", "phone": "phone", "address": "address", "locality": "place",
    "region": "place", "postcode": "place",
}
REGISTRY_FEATURES = ("name", "birth", "sex", "document", "admin_unit", "phone", "family")


def features_for_roles(roles: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({ROLE_FEATURE[r] for r in roles}))


@dataclass
class BuildStats:
    rows: int = 0
    unparseable_dates: int = 0
    unparseable_date_examples: list[int] = field(default_factory=list)  # row numbers, not values


def _admin(commune_code: str | None, province_code: str | None) -> tuple[str | None, str | None]:
    """Commune and province in the 2025 numbering. A pre-2025 province code maps to the 2025
    province that absorbed it; an abolished commune code keeps only its province (if known)."""
    commune = commune_code if commune_code and admin_units.is_active_commune(commune_code) else None
    province = admin_units.province_of_commune(commune) if commune else None
    if province is None and province_code:
        if province_code in admin_units.provinces():
            province = province_code
        else:
            province = admin_units.current_province_for_legacy("0" + province_code)
    return commune, province


def empty_record(unique_id: str) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(COLUMNS)
    record["unique_id"] = unique_id
    return record


def _set_name(record: dict[str, Any], full: str | None, family: str | None = None, given: str | None = None) -> None:
    parts = name_parts(full, family=family, given=given)
    if parts is None:
        return
    record.update(name_exact=parts.exact, name_plain=parts.plain, name_sorted=parts.sorted_tokens,
                  family=parts.family or None, middle=parts.middle or None, given=parts.given or None)


def record_from_row(row: Mapping[str, str], *, unique_id: str, mapping: Mapping[str, list[str]],
                    stats: BuildStats, row_number: int) -> dict[str, Any]:
    """One CSV row → a match record. ``mapping``: role → column names (several for address)."""
    def value(role: str) -> str | None:
        cols = mapping.get(role)
        if not cols:
            return None
        text = " ".join((row.get(c) or "").strip() for c in cols).strip()
        return text or None

    record = empty_record(unique_id)
    _set_name(record, value("full_name"), value("family_name"), value("given_name"))
    try:
        birth = parse_birth_date(value("birth_date"))
        if birth is None and value("birth_year"):
            birth = parse_birth_date(value("birth_year"))
    except UnparseableDate:
        birth = None
        stats.unparseable_dates += 1
        if len(stats.unparseable_date_examples) < 10:
            stats.unparseable_date_examples.append(row_number)
    if birth is not None:
        record.update(birth_date=birth.iso, birth_year=birth.year, birth_month=birth.month, birth_day=birth.day)
    record["sex"] = parse_sex(value("sex"))
    record["id_new"], record["id_old"] = parse_document_id(value("document_id"))
    record["phone"] = parse_phone(value("phone"))
    record["address"] = plain_text(value("address"))
    record["locality"] = plain_text(value("locality"))
    record["region"] = plain_text(value("region"))
    postcode = value("postcode")
    record["postcode"] = "".join(postcode.upper().split()) if postcode else None
    stats.rows += 1
    return record


def record_from_person(person: Mapping[str, Any]) -> dict[str, Any]:
    """A registry person (a ``values()`` dict) → a match record keyed by the person's pk."""
    record = empty_record(str(person["id"]))
    _set_name(record, person["full_name"])
    year = person.get("birth_year")
    birth_date = person.get("birth_date")
    if person.get("birth_date_precision") == "day" and birth_date is not None:
        record.update(birth_date=birth_date.isoformat(), birth_month=birth_date.month, birth_day=birth_date.day)
    record["birth_year"] = year
    record["sex"] = person.get("sex") or None
    record["id_new"] = person.get("id_number") or None
    record["id_old"] = person.get("old_id_number") or None
    record["commune"], record["province"] = _admin(person.get("commune_code"), person.get("province_code"))
    record["phone"] = parse_phone(person.get("phone"))
    record["father"] = _plain_name(person.get("father_name"))
    record["mother"] = _plain_name(person.get("mother_name"))
    record["birth_commune"], record["birth_province"] = _admin(person.get("birth_registration_commune_code"),
                                                              person.get("birth_registration_province_code"))
    record["hometown"] = plain_text(person.get("hometown"))
    return record


def _plain_name(value: str | None) -> str | None:
    parts = name_parts(value) if value else None
    return parts.plain if parts else None


PERSON_VALUES = ("id", "full_name", "birth_date", "birth_year", "birth_date_precision", "sex", "id_number",
                 "old_id_number", "commune_code", "province_code", "phone", "birth_registration_commune_code",
                 "birth_registration_province_code", "hometown")
"""Columns read from ``registry_person``; the parents' names (``father_name``, ``mother_name``)
come from the person's father and mother ``FamilyRelation`` rows."""


def to_arrow(records: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(records, schema=SCHEMA)


# --- registry persons as a column table --------------------------------------------------------
PERSON_TABLE_COLUMNS = (*PERSON_VALUES, "father_name", "mother_name")
"""The raw columns ``records_from_person_table`` reads (``selectors.registry_person_table``)."""


def _per_distinct(column: pa.ChunkedArray | pa.Array, function: Callable[[Any], tuple[Any, ...]],
                  types: Sequence[pa.DataType]) -> list[pa.Array]:
    """``function`` applied once per distinct value of ``column`` (names, codes and hometowns
    repeat: a million persons have far fewer distinct values), spread back to every row, one
    array per item of the tuple it returns. Nulls stay null."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = column.dictionary_encode()
    results = [function(value) for value in encoded.dictionary.to_pylist()]
    return [pa.array([r[i] for r in results], type).take(encoded.indices) for i, type in enumerate(types)]


def _name_columns(value: str) -> tuple[str | None, ...]:
    parts = name_parts(value)
    if parts is None:
        return (None,) * 6
    return (parts.exact, parts.plain, parts.sorted_tokens, parts.family or None, parts.middle or None,
            parts.given or None)


def _empty_as_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    text = pc.cast(column, pa.string())
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def records_from_person_table(raw: pa.Table) -> pa.Table:
    """Registry persons (columns ``PERSON_TABLE_COLUMNS``, values as the database gives them)
    → match records (``SCHEMA``): the same values as ``record_from_person`` row by row, with
    the Python work done once per distinct name, code pair, phone and hometown and the rest
    as Arrow column operations."""
    out: dict[str, Any] = {"unique_id": pc.cast(raw["id"], pa.string())}
    names = _per_distinct(raw["full_name"], _name_columns, [pa.string()] * 6)
    out.update(zip(("name_exact", "name_plain", "name_sorted", "family", "middle", "given"), names, strict=True))
    births = pc.utf8_slice_codeunits(pc.cast(raw["birth_date"], pa.string()), 0, 10)
    day_known = pc.and_kleene(pc.equal(raw["birth_date_precision"], "day"), pc.is_valid(births))
    out["birth_date"] = pc.if_else(day_known, births, pa.scalar(None, pa.string()))
    out["birth_month"] = pc.cast(pc.utf8_slice_codeunits(out["birth_date"], 5, 7), pa.int32())
    out["birth_day"] = pc.cast(pc.utf8_slice_codeunits(out["birth_date"], 8, 10), pa.int32())
    out["birth_year"] = pc.cast(raw["birth_year"], pa.int32())
    out["sex"] = _empty_as_null(raw["sex"])
    out["id_new"] = _empty_as_null(raw["id_number"])
    out["id_old"] = _empty_as_null(raw["old_id_number"])
    for commune, province, prefix in (("commune_code", "province_code", ""),
                                      ("birth_registration_commune_code", "birth_registration_province_code",
                                       "birth_")):
        keys = pc.binary_join_element_wise(pc.fill_null(pc.cast(raw[commune], pa.string()), ""),
                                           pc.fill_null(pc.cast(raw[province], pa.string()), ""), "|")
        out[f"{prefix}commune"], out[f"{prefix}province"] = _per_distinct(
            keys, lambda key: _admin(*(part or None for part in key.split("|"))), [pa.string()] * 2)
    out["phone"] = _per_distinct(raw["phone"], lambda v: (parse_phone(v),), [pa.string()])[0]
    out["father"] = _per_distinct(raw["father_name"], lambda v: (_plain_name(v or None),), [pa.string()])[0]
    out["mother"] = _per_distinct(raw["mother_name"], lambda v: (_plain_name(v or None),), [pa.string()])[0]
    out["hometown"] = _per_distinct(raw["hometown"], lambda v: (plain_text(v),), [pa.string()])[0]
    empty = pa.nulls(raw.num_rows, pa.string())
    return pa.table([out.get(f.name, empty) for f in SCHEMA], schema=SCHEMA)
