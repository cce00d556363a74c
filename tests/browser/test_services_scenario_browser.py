"""Issue #4's scenario in Debian's Chromium: a citizen logs in to PopID (new device → OTP from the
SMS outbox), fills the temporary-residence form generated from its definition (registry values
shown read-only, a PDF attached), pays the fee on the sandbox bank's page (which calls PopID back
over HTTP with a signed notice), gets the receipt; an officer of the commune police claims and
approves the dossier in the console; the person's registry record then shows the temporary
residence, and the citizen sees the approval in "my dossiers" and the inbox."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Mat-khau-cong-dan-1"
PHONE = "0912345678"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def fill_temporary_residence(page) -> None:
    """The temporary-residence form as a citizen fills it (pre-filled fields are read-only), then
    "save and pay the fee" (also used by test_citizen_journeys_browser.py)."""
    start = date.today()
    page.fill("#id_commune_code", "00070")
    page.fill("#id_address", "5 Hàng Gai")
    page.fill("#id_valid_from", start.isoformat())
    page.fill("#id_valid_until", (start + timedelta(days=180)).isoformat())
    page.fill("#id_reason", "Đi làm")
    page.set_input_files("#id_file_proof_of_residence",
                         files=[{"name": "hop-dong-thue-nha.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.click("button:has-text('Lưu và thanh toán lệ phí')")


@pytest.fixture
def citizen(family, settings, tmp_path):
    """Nguyễn Văn An with a level-1 account (as the demo citizens have)."""
    from popid.identity.models import CitizenAccount

    settings.DATA_DIR = tmp_path  # outbox and payment secret of this test only
    user = get_user_model().objects.create_user(username=family["an"].id_number, password=PASSWORD)
    return CitizenAccount.objects.create(user=user, person=family["an"], level=1, phone=PHONE,
                                         phone_verified_at=timezone.now())


def latest_otp() -> str:
    from popid.core.messaging import read_outbox

    messages = read_outbox(to=PHONE)
    assert messages, "no SMS was sent"
    return re.search(r"\b(\d{6})\b", messages[-1]["text"]).group(1)


# Data first, browser second (see tests/browser/test_console_browser.py for why).
def test_citizen_submits_and_pays_officer_approves_registry_shows_residence(
        live_server, transactional_db, citizen, officer_hoan_kiem, browser):
    an = citizen.person
    problems: list[str] = []
    page = browser.new_context(locale="vi-VN").new_page()
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    # the catalogue is public; the citizen logs in from it (new device: OTP) and lands back on it
    page.goto(f"{live_server.url}/dich-vu-cong/")
    page.click("main a[href^='/tai-khoan/dang-nhap/']")
    page.fill("input[name=id_number]", an.id_number)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action*='dang-nhap'] button[type=submit]")
    page.fill("input[name=code]", latest_otp())
    page.click("form[action*='xac-thuc-otp'] button.btn-primary")
    page.wait_for_url(f"{live_server.url}/dich-vu-cong/")

    # the form generated from temporary_residence.yaml, with registry values read-only
    page.click("text=Đăng ký tạm trú")
    page.wait_for_url("**/thu-tuc/temporary_residence/")
    prefilled = page.inner_text("dl.prefilled")
    assert "Nguyễn Văn An" in prefilled and an.id_number in prefilled and "12 Hàng Bạc" in prefilled
    assert page.locator("input[name=full_name]").count() == 0
    fill_temporary_residence(page)
    page.wait_for_url("**/dich-vu-cong/cho-nop/**")
    assert "7.000 ₫" in page.inner_text("#amount")

    # the sandbox bank: confirm; it calls PopID back and returns the browser to the receipt
    page.click("#pay")
    page.wait_for_url("**/ngan-hang-thu-nghiem/**")
    assert "7.000 ₫" in page.inner_text("#bank-amount")
    page.click("#bank-pay")
    page.wait_for_url("**/bien-nhan/")
    code = page.inner_text("#receipt-code").strip()
    assert re.fullmatch(r"\d{6}-00070-[A-Z0-9]{6}", code)
    assert "đã thanh toán" in page.inner_text("main")

    # the officer claims and approves in the console
    officer = browser.new_context(locale="vi-VN").new_page()
    officer.on("pageerror", lambda exc: problems.append(str(exc)))
    officer.goto(f"{live_server.url}/login/")
    officer.fill("#id_username", "cb.hoankiem")
    officer.fill("#id_password", "Mat-khau-thu-nghiem-1")
    officer.click("button[type=submit]:has-text('Đăng nhập')")
    officer.wait_for_url(f"{live_server.url}/")
    officer.goto(f"{live_server.url}/services/dossiers/")
    officer.click(f"text={code}")
    officer.wait_for_url(f"**/services/dossiers/{code}/")
    officer.click("button:has-text('Nhận xử lý')")
    officer.wait_for_url(f"**/services/dossiers/{code}/")
    assert "Đang xử lý" in officer.inner_text("main")
    officer.click("button:has-text('Phê duyệt')")
    officer.wait_for_url(f"**/services/dossiers/{code}/")
    assert "Đã duyệt" in officer.inner_text("main")

    # the registry record shows the new temporary residence
    officer.goto(f"{live_server.url}/persons/{an.id_number}/")
    record = officer.inner_text("main")
    assert "5 Hàng Gai" in record and "Hàng Bạc" in record

    # the citizen sees the approval and the unread notifications (written by the outbox consumer: the worker runs)
    from tests.ops.test_ops_tasks import run_worker

    run_worker()
    page.goto(f"{live_server.url}/dich-vu-cong/ho-so/")
    assert code in page.inner_text("main") and "Đã duyệt" in page.inner_text("main")
    assert int(page.inner_text("#unread-count")) >= 3
    page.click(f"text={code}")
    assert "Phê duyệt hồ sơ" in page.inner_text("#timeline")
    assert problems == []

    from django.db import connections

    from popid.services.models import PaymentNotice, SandboxCharge

    try:  # the bank's callback came over HTTP, not only through the reconciler
        assert SandboxCharge.objects.get().delivered_at is not None
        assert PaymentNotice.objects.filter(source="callback", status="paid").count() == 1
    finally:
        connections.close_all()
