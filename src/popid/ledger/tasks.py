"""Ledger background work: commit pending access records and sign checkpoints."""

from __future__ import annotations

from popid.core.tasks import background
from popid.ledger import services


@background(every=5, max_attempts=1)  # the next period's run is the retry
def integrate_ledger() -> dict[str, int | None]:
    """Every few seconds: integrate pending access records, then checkpoint when due."""
    result = services.integrate_and_checkpoint()
    return {"added": result.added, "size": result.size,
            "checkpoint": result.checkpoint.size if result.checkpoint else None}
