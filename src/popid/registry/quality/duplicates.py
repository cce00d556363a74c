"""Probable duplicates (sạch): blocking, then weighted field agreement within a block.

Blocking key: ``Person.name_norm`` + birth date + birth registration province. Two records of
one person almost always agree on those three, and the key splits a population of millions into
blocks of one or two, so no pair outside a block is ever compared.

Within a block every pair is scored on the fields that both records fill::

    similarity = Σ weight(agreeing fields) / Σ weight(fields filled on both sides)

with weights father's name 3, mother's name 3, hometown 2, birth place 2, ethnicity 1, sex 1
(texts compared after ``normalize_text``). A pair is flagged when the similarity reaches
``POPID_QUALITY_DUPLICATE_THRESHOLD`` (default 0.75) and the compared fields weigh at least
``POPID_QUALITY_DUPLICATE_MIN_EVIDENCE`` (default 4), so namesakes born the same day in the same
province to different parents (similarity ≤ 0.5) are not flagged, nor are two near-empty records.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from django.conf import settings

from popid.core.text import normalize_text

FIELD_WEIGHTS: dict[str, int] = {
    "father": 3, "mother": 3, "hometown": 2, "birth_place": 2, "ethnicity_code": 1, "sex": 1,
}


@dataclass
class Candidate:
    id: int
    id_number: str
    commune_code: str
    province_code: str
    hometown: str
    birth_place: str
    ethnicity_code: str
    sex: str
    father: str = ""
    mother: str = ""

    def __post_init__(self) -> None:
        self.hometown = normalize_text(self.hometown or "")
        self.birth_place = normalize_text(self.birth_place or "")
        self.father = normalize_text(self.father or "")
        self.mother = normalize_text(self.mother or "")


@dataclass(frozen=True)
class DuplicatePair:
    first: Candidate
    second: Candidate
    similarity: float
    agreeing: tuple[str, ...]


def duplicate_threshold() -> float:
    return float(getattr(settings, "POPID_QUALITY_DUPLICATE_THRESHOLD", 0.75))


def duplicate_min_evidence() -> int:
    return int(getattr(settings, "POPID_QUALITY_DUPLICATE_MIN_EVIDENCE", 4))


def similarity(a: Candidate, b: Candidate) -> tuple[float, int, tuple[str, ...]]:
    """(similarity, weight compared, agreeing fields) as the module docstring defines them."""
    compared = agreed = 0
    agreeing = []
    for name, weight in FIELD_WEIGHTS.items():
        left, right = getattr(a, name), getattr(b, name)
        if not left or not right:
            continue
        compared += weight
        if left == right:
            agreed += weight
            agreeing.append(name)
    return (agreed / compared if compared else 0.0), compared, tuple(agreeing)


def pairs_in_block(block: list[Candidate], *, threshold: float | None = None,
                   min_evidence: int | None = None) -> list[DuplicatePair]:
    """Flagged pairs of one block, each pair once, ordered by ID number."""
    limit = duplicate_threshold() if threshold is None else threshold
    evidence = duplicate_min_evidence() if min_evidence is None else min_evidence
    found = []
    for a, b in combinations(sorted(block, key=lambda c: c.id_number), 2):
        score, compared, agreeing = similarity(a, b)
        if compared >= evidence and score >= limit:
            found.append(DuplicatePair(a, b, score, agreeing))
    return found
