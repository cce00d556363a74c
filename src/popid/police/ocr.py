"""OCR of one scanned page with Tesseract and its Vietnamese language data (Debian
``tesseract-ocr`` + ``tesseract-ocr-vie``) through pytesseract. Only raster scans (PNG, JPEG, TIFF)
are read here; PDF scans are not supported yet (see docs/police.md)."""

from __future__ import annotations

import io

import pytesseract
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from popid.core.errors import DomainError

LANG = "vie"
SCAN_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
MAX_SCAN_BYTES = 50 * 1024 * 1024
OCR_TIMEOUT_S = 120


class ScanRejected(DomainError):
    code = "police_scan_rejected"
    status = 422
    title = _("Tệp quét không hợp lệ")


class OcrFailed(DomainError):
    code = "police_ocr_failed"
    status = 503
    title = _("Không nhận dạng được văn bản")


def recognise(content: bytes) -> str:
    """The text Tesseract reads on the scan (Vietnamese model, automatic page segmentation)."""
    if len(content) > MAX_SCAN_BYTES:
        raise ScanRejected(_("Tệp quét vượt quá %(mb)d MB") % {"mb": MAX_SCAN_BYTES // (1024 * 1024)})
    if not content.startswith(SCAN_MAGIC):
        raise ScanRejected(_("Tệp quét phải là ảnh PNG, JPEG hoặc TIFF"))
    try:
        image = Image.open(io.BytesIO(content))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ScanRejected(_("Không đọc được ảnh quét")) from exc
    try:
        text = pytesseract.image_to_string(image, lang=LANG, timeout=OCR_TIMEOUT_S)
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, RuntimeError) as exc:
        raise OcrFailed(str(exc)[:200]) from exc
    return text.strip()
