"""Registry background work: the nightly data-quality run."""

from __future__ import annotations

from popid.core.tasks import background
from popid.registry.quality.engine import run_quality_check

NIGHTLY_AT_UTC = 19 * 3600  # 02:00 in Hanoi (UTC+7)


@background(every=24 * 3600, offset=NIGHTLY_AT_UTC, window=3 * 3600, max_attempts=2)
def nightly_quality_run() -> int:
    return run_quality_check().pk
