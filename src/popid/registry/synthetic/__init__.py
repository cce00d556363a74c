"""Synthetic population for demos, tests and benchmarks (``popid seed``).

``generate_rows`` is the pure, deterministic generator (no database); ``person_rows`` gives only
the ``registry_person`` rows as tuples in ``PERSON_COLUMNS`` order (the table's column order) for
a raw COPY benchmark; ``load_rows`` writes generated batches with COPY (PostgreSQL) or
executemany (SQLite); ``seed_population`` does both and returns the ground truth of injected
errors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from popid.registry.synthetic.generator import (
    HISTORY_COLUMNS,
    HOUSEHOLD_COLUMNS,
    PERSON_COLUMNS,
    REFERENCE_DATE,
    TABLES,
    RowBatch,
    Truth,
)
from popid.registry.synthetic.loader import load_rows, next_ids, timestamp_text
from popid.registry.synthetic.population import generate_rows, person_rows

__all__ = [
    "FIXTURE_BIRTH_DATE", "FIXTURE_COMMUNE", "FIXTURE_NAME", "HISTORY_COLUMNS", "HOUSEHOLD_COLUMNS", "PERSON_COLUMNS",
    "REFERENCE_DATE", "TABLES", "RowBatch", "SeedResult", "Truth", "fixture_citizen_exists", "generate_rows",
    "load_rows", "next_ids", "person_rows", "seed_population",
]

FIXTURE_NAME = "Nguyễn Văn An"
FIXTURE_BIRTH_DATE = date(1990, 5, 12)
FIXTURE_COMMUNE = "00070"


@dataclass
class SeedResult:
    persons: int
    households: int
    seconds: float
    truth: dict[str, Any]


def fixture_citizen_exists() -> bool:
    from popid.registry.models import Person

    return Person.objects.filter(full_name=FIXTURE_NAME, birth_date=FIXTURE_BIRTH_DATE,
                                 commune_code=FIXTURE_COMMUNE).exists()


def seed_population(*, persons: int, seed: int, error_rate: float = 0.0, progress: bool = False,
                    batch_size: int = 5000, reference_date: date = REFERENCE_DATE,
                    duplicate_rate: float = 0.0, focus_communes: tuple[str, ...] = (),
                    focus_share: float = 0.0) -> SeedResult:
    """Generate ``persons`` people and load them; ID numbers already in the table are avoided
    and the Nguyễn Văn An fixture family is added only if missing (it counts in ``persons``)."""
    from tqdm import tqdm

    from popid.registry.models import Person

    started = time.perf_counter()
    person_start, household_start = next_ids()
    reserved = set(Person.objects.values_list("id_number", flat=True).iterator()) if person_start > 1 else None
    truth = Truth(seed=seed, persons=persons, error_rate=error_rate)
    batches = generate_rows(
        persons=persons, seed=seed, error_rate=error_rate, batch_size=batch_size, reference_date=reference_date,
        created_at=timestamp_text(timezone.now()), person_id_start=person_start,
        household_id_start=household_start, include_fixture=not fixture_citizen_exists(),
        reserved_id_numbers=reserved, truth=truth, duplicate_rate=duplicate_rate,
        focus_communes=focus_communes, focus_share=focus_share,
    )
    households = 0

    def counted() -> Iterator[RowBatch]:
        nonlocal households
        for batch in batches:
            households += len(batch.households)
            yield batch

    with tqdm(total=persons, unit=" người", disable=not progress, smoothing=0.1) as bar:
        loaded = load_rows(counted(), progress=bar)
    return SeedResult(persons=loaded, households=households, seconds=time.perf_counter() - started,
                      truth=truth.as_dict())
