"""Test pages for OCR: known Vietnamese text rendered like a scanned A4 page (white, black text,
DejaVu Sans from ``services/fonts``) at a given resolution; used by the demo seed, the tests and
the OCR benchmark, which compare what Tesseract reads with the text rendered."""

from __future__ import annotations

import difflib
import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path(__file__).resolve().parent.parent / "services" / "fonts" / "DejaVuSans.ttf"
A4_INCHES = (8.27, 11.69)


def render(lines: list[str], *, dpi: int = 300, font_pt: float = 12, margin_in: float = 1.0,
           size_in: tuple[float, float] = A4_INCHES) -> Image.Image:
    """A page (A4 unless ``size_in`` says otherwise) with ``lines`` typeset top to bottom (1.5 line
    spacing)."""
    width, height = int(size_in[0] * dpi), int(size_in[1] * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), size=max(6, round(font_pt * dpi / 72)))
    x = y = int(margin_in * dpi)
    step = round(font_pt * dpi / 72 * 1.5)
    for line in lines:
        draw.text((x, y), line, font=font, fill=0)
        y += step
        if y > height - x:
            break
    return page


def to_bytes(image: Image.Image, fmt: str = "PNG", dpi: int = 300) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, resolution=float(dpi)) if fmt == "PDF" else image.save(out, format=fmt,
                                                                                        dpi=(dpi, dpi))
    return out.getvalue()


def similarity(expected: str, actual: str) -> float:
    """Character accuracy as difflib's ratio over the texts with whitespace runs collapsed."""
    a, b = " ".join(expected.split()), " ".join(actual.split())
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


HOUSEHOLD_PAGE = [
    "SỔ ĐĂNG KÝ HỘ KHẨU THƯỜNG TRÚ",
    "Công an phường Hoàn Kiếm, thành phố Hà Nội",
    "Số hộ khẩu: 0125/HK, quyển số 3, năm 1998",
    "Địa chỉ: số 12 phố Hàng Bạc, phường Hoàn Kiếm",
    "Họ và tên chủ hộ: Nguyễn Văn Đức",
    "Sinh ngày: 14/02/1961, giới tính: Nam",
    "Nghề nghiệp: thợ kim hoàn, dân tộc: Kinh",
    "Quan hệ với chủ hộ: vợ, họ và tên: Trần Thị Hồng",
    "Sinh ngày: 03/09/1965, giới tính: Nữ",
    "Ghi chú: chuyển đến từ xã Thanh Trì ngày 20/05/1998",
]
