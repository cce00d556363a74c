"""The synthetic population as row batches: the deterministic generator (``generator``) with the
error injector (``errors``) on top. Kept apart from both so neither imports the other back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from popid.registry.synthetic.errors import ErrorInjector
from popid.registry.synthetic.generator import REFERENCE_DATE, PopulationGenerator, Row, RowBatch, Truth


def generate_rows(*, persons: int, seed: int, error_rate: float = 0.0, batch_size: int = 5000,
                  reference_date: date = REFERENCE_DATE, created_at: str = "2026-11-01 00:00:00+00:00",
                  person_id_start: int = 1, household_id_start: int = 1, include_fixture: bool = True,
                  reserved_id_numbers: set[str] | None = None, truth: Truth | None = None,
                  duplicate_rate: float = 0.0, focus_communes: tuple[str, ...] = (),
                  focus_share: float = 0.0) -> Iterator[RowBatch]:
    """Yield ``RowBatch``es of whole households until exactly ``persons`` person rows exist.

    Deterministic for equal arguments. Person ids run from ``person_id_start`` and household
    ids from ``household_id_start`` (the loader passes the table's next free id). The fixture
    household of Nguyễn Văn An comes first when ``include_fixture`` and ``persons >= 3``. When
    ``truth`` is given, injected errors and duplicate pairs are recorded into it.
    ``duplicate_rate``: share of persons who get a second record with hard errors (typed
    without an input method, swapped name order, day/month swapped, year only, moved...), for
    the probabilistic matcher; recorded under ``truth.match_duplicates``. ``focus_share`` of the
    households are placed in ``focus_communes`` (the demo staff's communes).
    """
    gen = PopulationGenerator(seed=seed, error_rate=error_rate, reference_date=reference_date,
                              reserved_id_numbers=reserved_id_numbers, focus_communes=focus_communes,
                              focus_share=focus_share)
    injector = ErrorInjector(gen, truth if truth is not None else Truth(seed, persons, error_rate))
    injector.truth.duplicate_rate = duplicate_rate
    next_pid, next_hid, remaining = person_id_start, household_id_start, persons
    batch, in_batch = RowBatch(), 0
    pending = [gen.fixture_household(next_hid)] if include_fixture and persons >= 3 else []
    while remaining > 0 or pending:
        if not pending:
            hh = gen.build_household(next_hid, remaining)
            pending = [hh, *injector.inject(hh, budget=remaining - len(hh.members),
                                            next_hid=next_hid + 1)] if error_rate > 0 else [hh]
            if duplicate_rate > 0:
                pending += injector.inject_hard_duplicates(
                    hh, rate=duplicate_rate, budget=remaining - sum(len(h.members) for h in pending))
        hh = pending.pop(0)
        hh.hid = next_hid
        next_hid += 1
        for p in hh.members:
            p.pid = next_pid
            next_pid += 1
        remaining -= len(hh.members)
        gen.emit(hh, batch, created_at)
        in_batch += len(hh.members)
        if in_batch >= batch_size:
            yield batch
            batch, in_batch = RowBatch(), 0
    if in_batch:
        yield batch


def person_rows(**kwargs: Any) -> Iterator[Row]:
    """Only the ``registry_person`` rows of ``generate_rows(**kwargs)``, as tuples in
    ``PERSON_COLUMNS`` order (dates as ISO strings, ``other_info`` as JSON text): what a
    benchmark feeds to a raw ``COPY registry_person (PERSON_COLUMNS) FROM STDIN``."""
    for batch in generate_rows(**kwargs):
        yield from batch.persons
