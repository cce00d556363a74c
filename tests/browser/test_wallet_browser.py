"""The issue's "done when" in Debian's Chromium: the level-2 demo citizen `popid seed` creates logs in (new device →
SMS OTP, then the passcode step-up the wallet requires), adds the driving licence to the wallet,
shows an "over 18 + name + licence class" QR code for a verifier's session; the verifier page
accepts it and shows exactly those claims; an officer suspends the licence in the console; the
same presentation is then refused as suspended. No CSP violation on the way."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Mat-khau-cong-dan-1"
PASSCODE = "246810"
PHONE = "0912345678"


@pytest.fixture
def demo_seeded(family, settings, tmp_path, officer_hoan_kiem):
    """What `popid seed` does after the population: the demo citizens of identity/demo.py (Nguyễn
    Văn An at level 2, random password and passcode in demo-accounts.json), then the documents
    app's seed_demo. Returns An's login as printed by the seed."""
    from django.apps import apps

    from popid.identity.demo import ensure_demo_citizens

    settings.DATA_DIR = tmp_path
    citizens = ensure_demo_citizens()
    apps.get_app_config("documents").seed_demo()
    apps.get_app_config("wallet").seed_demo()
    login = next(c for c in citizens if c["username"] == family["an"].id_number and c["level"] == "2")
    login["licence_number"] = family["an"].driving_licences.get().number  # no ORM once Playwright runs
    return login


@pytest.fixture
def seeded(family, settings, tmp_path, officer_hoan_kiem):
    """Nguyễn Văn An at level 2 with the demo documents `popid seed` gives the demo citizens."""
    from popid.documents.demo import seed_documents
    from popid.identity.models import CitizenAccount

    settings.DATA_DIR = tmp_path
    an = family["an"]
    user = get_user_model().objects.create_user(username=an.id_number, password=PASSWORD)
    CitizenAccount.objects.create(
        user=user, person=an, level=2, phone=PHONE, phone_verified_at=timezone.now(),
        passcode_hash=make_password(PASSCODE), level2_activated_at=timezone.now(), level2_officer="cb.hoankiem",
        level2_unit="Công an phường Hoàn Kiếm", level2_card_number=an.id_number)
    seed_documents(demo_id_numbers=[an.id_number])
    an.licence_number = an.driving_licences.get().number  # read now: no ORM once Playwright runs
    return an


def latest_otp(phone: str) -> str:
    from popid.core.messaging import read_outbox

    return re.search(r"\b(\d{6})\b", read_outbox(to=phone)[-1]["text"]).group(1)


def watch(page, errors: list[str]) -> None:
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))


# Data first, browser second (see tests/browser/test_console_browser.py for why).
def test_citizen_shows_licence_qr_verifier_accepts_then_refuses_after_suspension(live_server, transactional_db,
                                                                                  demo_seeded, browser):
    errors: list[str] = []
    citizen = browser.new_context(locale="vi-VN").new_page()
    verifier = browser.new_context(locale="vi-VN").new_page()
    officer = browser.new_context(locale="vi-VN").new_page()
    for page in (citizen, verifier, officer):
        watch(page, errors)

    # the verifier opens a session: its code carries the nonce the wallet must bind
    verifier.goto(f"{live_server.url}/giay-to/xac-minh/")
    verifier.click("#new-session button[type=submit]")
    session_code = verifier.inner_text("#session-code").strip()

    # the citizen logs in (new device: SMS OTP) and the wallet asks for the passcode (level 2)
    citizen.goto(f"{live_server.url}/tai-khoan/dang-nhap/?next=/vi-giay-to/")
    citizen.fill("input[name=id_number]", demo_seeded["username"])
    citizen.fill("input[name=password]", demo_seeded["password"])
    citizen.click("form[action*='dang-nhap'] button[type=submit]")
    citizen.fill("input[name=code]", latest_otp(demo_seeded["phone"]))
    citizen.click("form[action*='xac-thuc-otp'] button.btn-primary")
    citizen.wait_for_url("**/xac-thuc-nang-cao/**")
    citizen.fill("input[name=code]", demo_seeded["passcode"])
    citizen.click("form[action*='xac-thuc-nang-cao'] button.btn-primary")
    citizen.wait_for_url("**/vi-giay-to/")
    citizen.click("nav >> text=Ví giấy tờ")
    citizen.click("button[data-add=giay_phep_lai_xe]")
    citizen.wait_for_url("**/vi-giay-to/giay-to/*/")
    assert "Đã thêm Giấy phép lái xe vào ví" in citizen.inner_text(".messages")
    for claim in ("age_over_18", "full_name", "driving_classes"):
        assert citizen.is_checked(f"input[name=claims][value={claim}]")
    assert not citizen.is_checked("input[name=claims][value=birth_date]")
    citizen.fill("input[name=session]", session_code)
    citizen.click("#present-form button[type=submit]")
    citizen.wait_for_selector("#presentation-qr")
    assert citizen.is_visible("#presentation-qr")
    assert "Trên 18 tuổi" in citizen.inner_text("#shared-claims")
    payload = citizen.input_value("#presentation-payload")

    # the verifier pastes what the QR code holds: accepted, exactly three claims shown
    verifier.fill("#id_payload", payload)
    verifier.click("#verify-form button[type=submit]")
    result = verifier.locator("#verification-result")
    assert result.get_attribute("data-accepted") == "true"
    claims = verifier.inner_text("#disclosed-claims")
    assert "Nguyễn Văn An" in claims and "A1, B" in claims and "Có" in claims
    assert verifier.locator("#disclosed-claims tr").count() == 3
    assert "1990" not in verifier.inner_text("main")

    # an officer suspends the licence in the console
    officer.goto(f"{live_server.url}/")
    officer.fill("#id_username", "cb.hoankiem")
    officer.fill("#id_password", "Mat-khau-thu-nghiem-1")
    officer.click("button[type=submit]:has-text('Đăng nhập')")
    officer.click("nav summary:has-text('Giấy tờ')")  # the documents area's menu
    officer.click("nav >> text=Giấy phép lái xe")
    officer.click(f"text={demo_seeded['licence_number']}")
    officer.fill("#id_reason", "Tước quyền sử dụng giấy phép 3 tháng")
    officer.click("#suspend")
    officer.wait_for_selector(".messages")
    assert "Tạm giữ" in officer.inner_text("#licence-status")

    # the same presentation is now refused as suspended
    verifier.fill("#id_payload", payload)
    verifier.click("#verify-form button[type=submit]")
    assert verifier.locator("#verification-result").get_attribute("data-reason") == "suspended"
    assert "tạm đình chỉ" in verifier.inner_text("#verification-result")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_browser_held_key_presentation(live_server, transactional_db, seeded, browser):
    """The holder key made and kept by Chromium's WebCrypto (non-extractable, IndexedDB): the
    server issues to its public key, the page signs the Key Binding JWT, the verifier accepts."""
    errors: list[str] = []
    context = browser.new_context(locale="vi-VN")
    citizen = context.new_page()
    watch(citizen, errors)
    session_page = browser.new_context(locale="vi-VN").new_page()
    watch(session_page, errors)
    session_page.goto(f"{live_server.url}/giay-to/xac-minh/")
    session_page.click("#new-session button[type=submit]")
    session_code = session_page.inner_text("#session-code").strip()

    citizen.goto(f"{live_server.url}/tai-khoan/dang-nhap/?next=/vi-giay-to/")
    citizen.fill("input[name=id_number]", seeded.id_number)
    citizen.fill("input[name=password]", PASSWORD)
    citizen.click("form[action*='dang-nhap'] button[type=submit]")
    citizen.fill("input[name=code]", latest_otp(PHONE))
    citizen.click("form[action*='xac-thuc-otp'] button.btn-primary")
    citizen.fill("input[name=code]", PASSCODE)
    citizen.click("form[action*='xac-thuc-nang-cao'] button.btn-primary")
    citizen.wait_for_url("**/vi-giay-to/")
    citizen.click("button[data-add-browser=giay_phep_lai_xe]")
    citizen.wait_for_url("**/vi-giay-to/giay-to/*/")
    citizen.fill("input[name=session]", session_code)
    citizen.click("#present-form button[type=submit]")
    citizen.wait_for_url("**/ky/")  # the page signed with the device key and posted the signature
    citizen.wait_for_selector("#presentation-qr")
    payload = citizen.input_value("#presentation-payload")

    session_page.fill("#id_payload", payload)
    session_page.click("#verify-form button[type=submit]")
    assert session_page.locator("#verification-result").get_attribute("data-accepted") == "true"
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
