"""Background OCR of uploaded scans (``popid worker``), retried with back-off by core.tasks."""

from __future__ import annotations

from popid.core.tasks import background
from popid.records import processing


@background(max_attempts=processing.OCR_MAX_ATTEMPTS)
def ocr_record(record_id: int) -> None:
    processing.run_ocr(record_id)
