"""The whole "log in with PopID" journey in Debian's Chromium: the demo public-service site sends
the citizen to PopID, who logs in with a real form (a new device, so an SMS OTP read from the
gateway's outbox), sees the consent screen, and comes back logged in with level and claims; a
second login asking for level 2 is stepped up with the passcode; logout ends both sessions."""

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
def citizen(family, settings, tmp_path):
    """Nguyễn Văn An holds a level-2 account (activated at the commune police)."""
    from popid.identity.models import CitizenAccount

    settings.DATA_DIR = tmp_path  # outbox, keys and the demo RP registration of this test only
    an = family["an"]
    user = get_user_model().objects.create_user(username=an.id_number, password=PASSWORD)
    return CitizenAccount.objects.create(
        user=user, person=an, level=2, phone=PHONE, phone_verified_at=timezone.now(),
        passcode_hash=make_password(PASSCODE), level2_activated_at=timezone.now(), level2_officer="cb.hoankiem",
        level2_unit="Công an phường Hoàn Kiếm", level2_card_number=an.id_number)


def latest_otp(phone: str) -> str:
    from popid.core.messaging import read_outbox

    messages = read_outbox(to=phone)
    assert messages, "no SMS was sent"
    return re.search(r"\b(\d{6})\b", messages[-1]["text"]).group(1)


# Data first, browser second (see tests/browser/test_console_browser.py for why).
def test_citizen_logs_in_to_the_demo_service_with_consent_and_step_up(live_server, transactional_db, citizen, browser):
    an = citizen.person
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/demo-rp/")
    page.click("#rp-login")
    # PopID's login form (a different part of the same server, as a separate site would be)
    page.fill("input[name=id_number]", an.id_number)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action*='dang-nhap'] button[type=submit]")
    # new device: the OTP goes to the registered phone
    page.fill("input[name=code]", latest_otp(PHONE))
    page.click("form[action*='xac-thuc-otp'] button.btn-primary")
    # consent screen names the service and the data
    assert "Cổng dịch vụ công mẫu" in page.content()
    page.click("button[name=decision][value=allow]")
    # back at the service, logged in
    page.wait_for_selector("#rp-user")
    assert page.inner_text("#rp-acr") == "level-1"
    claims = page.inner_text("#rp-claims")
    assert "Nguyễn Văn An" in claims and an.id_number in claims

    # level 2 asked: PopID steps the session up with the passcode; consent is remembered
    page.click("form[action*='logout'] button")
    page.wait_for_selector("#rp-login")
    page.click("#rp-login-level2")
    page.fill("input[name=id_number]", an.id_number)  # logout ended the PopID session too
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action*='dang-nhap'] button[type=submit]")
    page.fill("input[name=code]", PASSCODE)
    page.click("form[action*='xac-thuc-nang-cao'] button.btn-primary")
    page.wait_for_selector("#rp-user")
    assert page.inner_text("#rp-acr") == "level-2"
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
