"""`popid records ocr FILE` on a 300 dpi page generated from known Vietnamese text (Tesseract with
the Vietnamese model, installed by .ci/run), and scans that are not images refused."""

from __future__ import annotations

import difflib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image, ImageDraw, ImageFont

import popid.services
from popid.police import ocr

FONT = Path(popid.services.__file__).with_name("fonts") / "DejaVuSans.ttf"
KNOWN = ["SỔ HỘ KHẨU", "Họ và tên: Nguyễn Văn An", "Ngày sinh: 12/05/1990",
         "Nơi thường trú: 12 Hàng Bạc, phường Hoàn Kiếm, Hà Nội"]


def page(path: Path) -> Path:
    """A 300 dpi A5-width page with the known lines in 12 pt type."""
    font = ImageFont.truetype(str(FONT), 50)  # 12 pt at 300 dpi
    image = Image.new("L", (1750, 120 + 90 * len(KNOWN)), 255)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(KNOWN):
        draw.text((80, 60 + 90 * index), line, font=font, fill=0)
    image.save(path, dpi=(300, 300))
    return path


def accuracy(expected: str, got: str) -> float:
    return difflib.SequenceMatcher(None, " ".join(expected.split()), " ".join(got.split())).ratio()


def test_ocr_command_prints_the_vietnamese_text_of_a_scan(tmp_path):
    out = StringIO()
    call_command("records", "ocr", str(page(tmp_path / "trang.png")), stdout=out)
    assert accuracy("\n".join(KNOWN), out.getvalue()) >= 0.9
    assert "Nguyễn Văn An" in out.getvalue()


def test_a_scan_that_is_not_an_image_is_refused(tmp_path):
    fake = tmp_path / "scan.png"
    fake.write_bytes(b"MZ\x90\x00 this is an executable, not a scan")
    with pytest.raises(CommandError, match="PNG, JPEG hoặc TIFF"):
        call_command("records", "ocr", str(fake), stdout=StringIO())
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(page(tmp_path / "ok.png").read_bytes()[:200])
    with pytest.raises(CommandError):
        call_command("records", "ocr", str(truncated), stdout=StringIO())
    with pytest.raises(CommandError, match="no such file"):
        call_command("records", "ocr", str(tmp_path / "missing.png"), stdout=StringIO())


def test_ocr_failure_is_a_clear_error(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ocr.pytesseract.TesseractNotFoundError()

    monkeypatch.setattr(ocr.pytesseract, "image_to_string", broken)
    with pytest.raises(ocr.OcrFailed):
        ocr.recognise(page(tmp_path / "p.png").read_bytes())
