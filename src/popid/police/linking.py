"""Candidates for a person named in a case when only a name and a birth year (and perhaps the
commune) are known: registry persons ranked by the probabilistic matcher (``popid.matching``,
Fellegi–Sunter on Splink), for an officer to confirm one.

1. **Candidates from the registry** (indexed queries, at most ``MAX_SCANNED`` persons): living
   persons born within ±``YEAR_SLACK`` years of the given year whose accent-free name is the
   same or has its words in another order, or starts with the same family name, or — in the
   given commune — ends with the same given name. Typing leftovers
   (Telex/VNI) are repaired first by ``matching.normalise``.
2. **Scoring**: each candidate is compared with the query record by the model's comparisons
   (name with diacritics / without / word order / spelling, birth year, commune and province);
   what the query does not have (exact birth date, sex, numbers, phone) falls into the null
   level and weighs nothing. The model is the registry's trained model
   (``$POPID_DATA_DIR/matching/registry-model.json``, written by ``popid match registry``) when
   it loads, otherwise a *reference model* trained once per process, without labels, on a
   synthetic population (``REFERENCE_PERSONS`` generated persons, fixed seed, about 5–10 s).
3. The best ``SHOWN`` candidates with probability ≥ ``MIN_PROBABILITY`` are returned, best first.

Nothing here records access: the selector that shows candidates does, for the case.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q

from popid.core import admin_units
from popid.core.errors import DomainError
from popid.matching.engine import FieldSet, Matcher, load_model
from popid.matching.normalise import name_parts
from popid.matching.records import PERSON_VALUES, empty_record, record_from_person, to_arrow
from popid.matching.services import registry_model_path
from popid.registry.models import Person, PersonStatus

logger = logging.getLogger(__name__)

YEAR_SLACK = 1
MAX_SCANNED = 500
SHOWN = 10
MIN_PROBABILITY = 0.05
REFERENCE_PERSONS = 1500
REFERENCE_SEED = 11


@dataclass(frozen=True)
class Candidate:
    person: Person
    probability: float
    weight: float


@dataclass(frozen=True)
class Query:
    full_name: str
    birth_year: int
    commune_code: str = ""
    birth_date: str = ""  # ISO, when the whole date is known (a digitised record's "sinh ngày …")

    def record(self, full_name: str | None = None, unique_id: str = "query") -> dict[str, Any]:
        record = empty_record(unique_id)
        parts = name_parts(full_name or self.full_name)
        if parts is not None:
            record.update(name_exact=parts.exact, name_plain=parts.plain, name_sorted=parts.sorted_tokens,
                          family=parts.family or None, middle=parts.middle or None, given=parts.given or None)
        record["birth_year"] = self.birth_year
        if self.birth_date:
            known = date.fromisoformat(self.birth_date)
            record.update(birth_date=known.isoformat(), birth_month=known.month, birth_day=known.day)
        if self.commune_code:
            record["commune"] = self.commune_code
            record["province"] = admin_units.province_of_commune(self.commune_code)
        return record


def registry_candidates(query: Query) -> list[dict[str, Any]]:
    """Registry persons worth scoring (``values()`` dicts), through indexed queries only."""
    parts = name_parts(query.full_name)
    if parts is None:
        return []
    years = Q(birth_year__gte=query.birth_year - YEAR_SLACK, birth_year__lte=query.birth_year + YEAR_SLACK)
    alive = Person.objects.filter(years, status=PersonStatus.ALIVE)
    plain = parts.plain
    wanted = Q(name_norm=plain)
    if parts.family:
        wanted |= Q(name_norm__startswith=f"{parts.family} ")
    if query.commune_code and parts.given:
        wanted |= Q(commune_code=query.commune_code, name_norm__endswith=f" {parts.given}")
    if parts.sorted_tokens != plain:  # family and given name swapped: the words in another order
        words = plain.split()
        if len(words) >= 2:
            wanted |= Q(name_norm=" ".join([*words[1:], words[0]])) | Q(name_norm=" ".join([words[-1], *words[:-1]]))
    rows = list(alive.filter(wanted).values(*PERSON_VALUES).order_by("pk")[:MAX_SCANNED])
    return rows


_reference: Matcher | None = None
_reference_lock = threading.Lock()


def _reference_matcher() -> Matcher:
    """A model trained without labels on a synthetic population, once per process."""
    global _reference
    with _reference_lock:
        if _reference is None:
            from popid.registry.synthetic.generator import PERSON_COLUMNS, Truth
            from popid.registry.synthetic.population import generate_rows

            truth = Truth(seed=REFERENCE_SEED, persons=REFERENCE_PERSONS, error_rate=0.0)
            records = []
            for batch in generate_rows(persons=REFERENCE_PERSONS, seed=REFERENCE_SEED, duplicate_rate=0.05,
                                       truth=truth, include_fixture=False):
                for row in batch.persons:
                    person = dict(zip(PERSON_COLUMNS, row, strict=True))
                    person["birth_date"] = date.fromisoformat(person["birth_date"])
                    records.append(record_from_person(person))
            matcher = Matcher([to_arrow(records)], FieldSet.registry())
            matcher.train(max_pairs=1e5)
            _reference = matcher
        return _reference


def _matcher_for(candidates: list[dict[str, Any]]) -> Matcher:
    path = registry_model_path()
    if path.exists():
        try:
            model = load_model(path, FieldSet.registry())
            return Matcher([to_arrow(candidates)], FieldSet.registry(), model=model)
        except DomainError:
            logger.warning("registry match model at %s not usable; using the reference model", path)
    return _reference_matcher()


def _query_orders(query: Query) -> list[dict[str, Any]]:
    """The name as typed and, for a name written given-name first ("Văn An Nguyễn", as foreign
    forms order it), the family name moved to the front and back: the registry writes family,
    middle, given. The model learns word-order swaps only from the duplicates it was trained on,
    so a candidate found by its words is scored in the order the registry uses as well."""
    records = [query.record()]
    words = " ".join(query.full_name.split()).split(" ")
    if len(words) >= 2:
        for i, order in enumerate((" ".join([words[-1], *words[:-1]]), " ".join([*words[1:], words[0]]))):
            records.append(query.record(order, unique_id=f"query_order_{i}"))
    return records


def rank(query: Query) -> list[Candidate]:
    """The best candidates for ``query``, most probable first (empty when none is close)."""
    rows = registry_candidates(query)
    if not rows:
        return []
    candidates = [record_from_person(row) for row in rows]
    matcher = _matcher_for(candidates)
    with _reference_lock:  # one DuckDB connection per matcher: no concurrent use
        scored = matcher.linker.inference.score_pairs(_query_orders(query), candidates).as_record_list()
    best: dict[int, tuple[float, float]] = {}
    for pair in scored:  # per candidate, the word order of the name that fits it best
        pk = int(pair["unique_id_r"])
        found = (float(pair["match_probability"]), float(pair["match_weight"]))
        if pk not in best or found[1] > best[pk][1]:
            best[pk] = found
    ranked = sorted((item for item in best.items() if item[1][0] >= MIN_PROBABILITY),
                    key=lambda item: (-item[1][1], item[0]))[:SHOWN]
    persons = Person.objects.in_bulk([pk for pk, _score in ranked])
    return [Candidate(person=persons[pk], probability=prob, weight=weight) for pk, (prob, weight) in ranked]
