"""A citizen in a real browser (Debian's Chromium through Playwright): register at level 1 with a
face photo, confirm the phone with the OTP read from the outbox, log in (new device → OTP),
and reach the account page with the registry profile; no CSP violation on the way."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from popid.core import messaging

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Mat-khau-cong-dan-2024"
PHONE = "0912345678"


def last_otp() -> str:
    return re.search(r"\b(\d{6})\b", messaging.read_outbox(to=PHONE)[-1]["text"]).group(1)


# Data first, then Playwright (see test_console_browser.py for why the order matters).
def test_citizen_registers_confirms_phone_logs_in_and_sees_account(live_server, transactional_db, family, settings,
                                                                   tmp_path, browser):
    settings.DATA_DIR = tmp_path
    photo = tmp_path / "chan-dung.png"
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), (200, 160, 130)).save(buffer, format="PNG")
    photo.write_bytes(buffer.getvalue())
    an = family["an"]
    page = browser.new_context(locale="vi-VN").new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))

    page.goto(f"{live_server.url}/tai-khoan/dang-ky/")
    page.fill("#id_id_number", an.id_number)
    page.fill("#id_full_name", "nguyen van an")
    page.fill("#id_birth_date", "1990-05-12")
    page.fill("#id_phone", PHONE)
    page.set_input_files("#id_face_photo", str(photo))
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_confirm", PASSWORD)
    page.fill("#id_passcode", "246810")
    page.click("button:has-text('Đăng ký')")
    page.wait_for_url("**/tai-khoan/xac-thuc-otp/")
    page.fill("#id_code", last_otp())
    page.click("button:has-text('Xác nhận')")
    page.wait_for_url("**/tai-khoan/dang-nhap/")
    assert "Đã xác nhận số điện thoại" in page.inner_text(".messages")

    page.fill("#id_id_number", an.id_number)
    page.fill("#id_password", PASSWORD)
    page.click("main button:has-text('Đăng nhập')")
    page.wait_for_url("**/tai-khoan/xac-thuc-otp/")
    page.fill("#id_code", last_otp())
    page.click("button:has-text('Xác nhận')")
    page.wait_for_url(f"{live_server.url}/tai-khoan/")
    body = page.inner_text("main")
    assert "Nguyễn Văn An" in body and "Hàng Bạc" in body and "mức độ 1" in body
    page.click("nav >> text=Lịch sử đăng nhập")
    assert "success" in page.inner_text("main")
    assert not problems, problems
