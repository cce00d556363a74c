"""OCR of scanned records with Tesseract 5 and its Vietnamese model (Debian ``tesseract-ocr`` +
``tesseract-ocr-vie``) through pytesseract. A scan is a PDF (each page rasterised by PDFium through
pypdfium2 at 300 dpi) or an image (PNG, JPEG, TIFF — every frame of a multi-page TIFF). The type
is decided by the file's first bytes, never by its name."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pypdfium2 as pdfium
import pytesseract
from django.utils.translation import gettext as _
from PIL import Image, ImageSequence, UnidentifiedImageError

from popid.records.errors import OcrFailed, ScanRejected

LANG = "vie"
DPI = 300
MAX_SCAN_BYTES = 30 * 1024 * 1024
MAX_PAGES = 200
OCR_TIMEOUT_S = 120  # per page
MAGIC = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
}


def sniff(content: bytes) -> str:
    """The content type the first bytes show; anything else is refused."""
    for magic, content_type in MAGIC.items():
        if content.startswith(magic):
            return content_type
    raise ScanRejected(_("Tệp quét phải là tệp PDF hoặc ảnh PNG, JPEG hoặc TIFF (kiểm tra theo nội dung tệp)"),
                       field="file")


def check_size(size: int) -> None:
    if size <= 0:
        raise ScanRejected(_("Tệp quét rỗng"), field="file")
    if size > MAX_SCAN_BYTES:
        raise ScanRejected(_("Tệp quét vượt quá %(mb)d MB") % {"mb": MAX_SCAN_BYTES // (1024 * 1024)}, field="file")


def page_images(content: bytes, content_type: str | None = None) -> Iterator[Image.Image]:
    """Every page of the scan as an image (PDF pages rendered at ``DPI``)."""
    content_type = content_type or sniff(content)
    if content_type == "application/pdf":
        try:
            pdf = pdfium.PdfDocument(content)
        except pdfium.PdfiumError as exc:
            raise ScanRejected(_("Không đọc được tệp PDF"), field="file") from exc
        try:
            if len(pdf) > MAX_PAGES:
                raise ScanRejected(_("Tệp quét có quá %(n)d trang") % {"n": MAX_PAGES}, field="file")
            for index in range(len(pdf)):
                page = pdf[index]
                try:
                    yield page.render(scale=DPI / 72, grayscale=True).to_pil()
                finally:
                    page.close()
        finally:
            pdf.close()
        return
    try:
        image = Image.open(io.BytesIO(content))
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ScanRejected(_("Không đọc được ảnh quét"), field="file") from exc
    if len(frames) > MAX_PAGES:
        raise ScanRejected(_("Tệp quét có quá %(n)d trang") % {"n": MAX_PAGES}, field="file")
    yield from frames


def check_readable(content: bytes, content_type: str) -> int:
    """Open the scan as the upload arrives (no OCR yet): the number of pages, or ScanRejected for a
    truncated or corrupt file."""
    if content_type == "application/pdf":
        try:
            pdf = pdfium.PdfDocument(content)
        except pdfium.PdfiumError as exc:
            raise ScanRejected(_("Không đọc được tệp PDF"), field="file") from exc
        try:
            count = len(pdf)
        finally:
            pdf.close()
    else:
        try:
            image = Image.open(io.BytesIO(content))
            count = 0
            for frame in ImageSequence.Iterator(image):
                frame.load()
                count += 1
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise ScanRejected(_("Không đọc được ảnh quét"), field="file") from exc
    if count == 0:
        raise ScanRejected(_("Tệp quét không có trang nào"), field="file")
    if count > MAX_PAGES:
        raise ScanRejected(_("Tệp quét có quá %(n)d trang") % {"n": MAX_PAGES}, field="file")
    return count


def recognise_image(image: Image.Image) -> str:
    try:
        text = pytesseract.image_to_string(image, lang=LANG, timeout=OCR_TIMEOUT_S)
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, RuntimeError, OSError) as exc:
        raise OcrFailed(str(exc)[:200]) from exc
    return str(text).strip()


def recognise_pages(content: bytes) -> list[str]:
    """The text of every page of the scan, in order."""
    check_size(len(content))
    return [recognise_image(image) for image in page_images(content, sniff(content))]
