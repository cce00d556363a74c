"""The data-quality run's related-records pass (issue #13 item 9: ID cards, relatives, residences,
other names, household relations against their legal formats) on the database of
``POPID_DATA_DIR``, beside a whole run in the same process, with the row counts it reads.

Run (after ``popid seed --persons 100000 --seed 7 --error-rate 0.05``):
    DJANGO_SETTINGS_MODULE=popid.settings .venv/bin/python benchmarks/bench_quality_related.py
"""

from __future__ import annotations

import time

import django

django.setup()

from django.utils import timezone  # noqa: E402

from popid.registry.models import FamilyRelation, IdentityCard, Person, Residence  # noqa: E402
from popid.registry.quality import engine  # noqa: E402
from popid.registry.quality.models import QualityFinding, QualityRun  # noqa: E402


def main() -> None:
    print(f"persons {Person.objects.count():,}, cards {IdentityCard.objects.count():,}, "
          f"relations {FamilyRelation.objects.count():,}, residences {Residence.objects.count():,}")
    started = time.perf_counter()
    run = engine.run_quality_check()
    print(f"whole run: {time.perf_counter() - started:.1f} s, {run.finding_count:,} findings")
    for _ in range(2):
        collector = engine._Collector(run=QualityRun.objects.create(started_at=timezone.now()))
        started = time.perf_counter()
        engine._related_records_pass(collector, timezone.localdate())
        print(f"related-records pass alone: {time.perf_counter() - started:.1f} s, {collector.total:,} findings")
        QualityFinding.objects.filter(run=collector.run).delete()  # a scratch run: leave nothing behind
        collector.run.delete()


if __name__ == "__main__":
    main()
