"""The background step of digitisation: OCR of one scanned record and the person links proposed
from its text. Idempotent (a run after a crash replaces the pages it wrote); a failed OCR leaves
the record in ``retry`` (then ``failed`` when the task's attempts are spent) and raises, so
``core.tasks`` runs it again with back-off."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from popid.core.text import normalize_text
from popid.records import linking, ocr
from popid.records.errors import OcrFailed, ScanRejected
from popid.records.models import LinkSource, OcrState, PersonLink, RecordPage, ScannedRecord

log = logging.getLogger("popid.records")

OCR_MAX_ATTEMPTS = 4


def _mark_failed(record_id: int, error: str) -> None:
    with transaction.atomic():
        record = ScannedRecord.objects.select_for_update().get(pk=record_id)
        record.ocr_attempts += 1
        record.ocr_state = OcrState.RETRY if record.ocr_attempts < OCR_MAX_ATTEMPTS else OcrState.FAILED
        record.ocr_error = error[:300]
        record.save(update_fields=["ocr_attempts", "ocr_state", "ocr_error"])


def store_pages(record: ScannedRecord, texts: list[str]) -> int:
    """Replace the record's pages and add the proposals their text yields (decided links are kept;
    a person already linked is not proposed again). The number of new proposals."""
    RecordPage.objects.filter(record=record).delete()
    RecordPage.objects.bulk_create([
        RecordPage(record=record, number=number, unit_code=record.unit_code, province_code=record.province_code,
                   text=text, text_norm=normalize_text(text))
        for number, text in enumerate(texts, start=1)])
    PersonLink.objects.filter(record=record, state="proposed").delete()
    known = set(PersonLink.objects.filter(record=record).values_list("person_id", flat=True))
    proposals = [p for p in linking.propose(linking.find_mentions(texts)) if p.person_id not in known]
    PersonLink.objects.bulk_create([
        PersonLink(record=record, page_number=p.mention.page, person_id=p.person_id,
                   source=LinkSource.ID_NUMBER if p.mention.source == "id_number" else LinkSource.NAME_BIRTH,
                   mention=p.mention.text[:300], score=p.score)
        for p in proposals])
    record.page_count = len(texts)
    record.ocr_state = OcrState.DONE
    record.ocr_error = ""
    record.ocr_at = timezone.now()
    record.ocr_attempts += 1
    record.save(update_fields=["page_count", "ocr_state", "ocr_error", "ocr_at", "ocr_attempts"])
    return len(proposals)


def run_ocr(record_id: int) -> None:
    record = ScannedRecord.objects.filter(pk=record_id).first()
    if record is None or record.ocr_state == OcrState.DONE:
        return  # deleted meanwhile, or a second run of a finished task
    try:
        texts = ocr.recognise_pages(bytes(record.content))
    except (OcrFailed, ScanRejected) as exc:
        log.warning("OCR of record %s failed: %s", record_id, exc)
        _mark_failed(record_id, f"{exc.code}: {exc.detail}")
        raise
    except Exception as exc:  # PDFium or Pillow failing in a way the checks at upload did not foresee
        log.exception("OCR of record %s failed", record_id)
        _mark_failed(record_id, f"{type(exc).__name__}: {exc}")
        raise
    with transaction.atomic():
        record = ScannedRecord.objects.select_for_update().get(pk=record_id)
        if record.ocr_state != OcrState.DONE:
            store_pages(record, texts)
