"""The citizen journeys of issue #19 at 390 px (a phone) and 1280 px, in Debian's Chromium: log in
(password, then the SMS code of a new device), submit and pay a dossier (the form with pre-filled
registry values, the sandbox bank, the receipt), show a credential (passcode step-up, add the
driving licence to the wallet, the compact QR code a verifier accepts), and read the access
history (the pre-fill recorded once). On every page: a screenshot kept for CI
(``$POPID_ARTEFACTS/screenshots``), nothing wider than the screen, and axe-core (vendored) with no
serious or critical violation."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_citizen_mobile_browser import ARTEFACTS, _axe_serious
from tests.browser.test_services_scenario_browser import fill_temporary_residence
from tests.browser.test_wallet_browser import PASSCODE, PASSWORD, PHONE, latest_otp, seeded, watch  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


class Journey:
    """Checks and keeps every page the citizen sees."""

    def __init__(self, page, width: int) -> None:
        self.page, self.width, self.failures, self.step = page, width, [], 0
        ARTEFACTS.mkdir(parents=True, exist_ok=True)

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        self.step += 1
        page.screenshot(path=str(ARTEFACTS / f"journey-{self.step:02d}-{name}-{self.width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            self.failures.append(f"{name}: {overflow}px wider than the screen")
        self.failures += [f"{name}: {v}" for v in _axe_serious(page)]


@pytest.mark.parametrize("width", [390, 1280])
def test_citizen_journeys_at_phone_and_desktop_widths(live_server, transactional_db, seeded, browser,  # noqa: F811
                                                      width):
    an = seeded
    errors: list[str] = []
    viewport = {"width": width, "height": 844 if width < 600 else 900}
    page = browser.new_context(viewport=viewport, locale="vi-VN").new_page()
    verifier = browser.new_context(locale="vi-VN").new_page()
    watch(page, errors)
    journey = Journey(page, width)

    # 1. log in: password, then the SMS code of this new device
    page.goto(f"{live_server.url}/tai-khoan/dang-nhap/?next=/dich-vu-cong/")
    journey.check("login")
    page.fill("input[name=id_number]", an.id_number)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action*='dang-nhap'] button[type=submit]")
    page.wait_for_url("**/xac-thuc-otp/**")
    journey.check("login-otp")
    page.fill("input[name=code]", latest_otp(PHONE))
    page.click("form[action*='xac-thuc-otp'] button.btn-primary")
    page.wait_for_url(f"{live_server.url}/dich-vu-cong/")
    journey.check("services")

    # 2. submit and pay a dossier
    page.goto(f"{live_server.url}/dich-vu-cong/thu-tuc/temporary_residence/")
    assert "Nguyễn Văn An" in page.inner_text("dl.prefilled")
    journey.check("dossier-form")
    fill_temporary_residence(page)
    page.wait_for_url("**/dich-vu-cong/cho-nop/**")
    assert "7.000 ₫" in page.inner_text("#amount")
    journey.check("dossier-pay")
    page.click("#pay")
    page.wait_for_url("**/ngan-hang-thu-nghiem/**")
    page.click("#bank-pay")
    page.wait_for_url("**/bien-nhan/")
    assert re.fullmatch(r"\d{6}-00070-[A-Z0-9]{6}", page.inner_text("#receipt-code").strip())
    journey.check("dossier-receipt")

    # 3. show a credential: passcode step-up, add the licence, the compact QR for a verifier
    verifier.goto(f"{live_server.url}/giay-to/xac-minh/")
    verifier.click("#new-session button[type=submit]")
    session_code = verifier.inner_text("#session-code").strip()
    page.goto(f"{live_server.url}/vi-giay-to/")
    page.wait_for_url("**/xac-thuc-nang-cao/**")
    journey.check("wallet-step-up")
    page.fill("input[name=code]", PASSCODE)
    page.click("form[action*='xac-thuc-nang-cao'] button.btn-primary")
    page.wait_for_url("**/vi-giay-to/")
    journey.check("wallet")
    with page.expect_navigation():
        page.click("button[data-add=giay_phep_lai_xe]")
    # on a refusal the wallet page comes back with the reason: say it rather than time out
    assert "/vi-giay-to/giay-to/" in page.url, page.inner_text("main")[:400]
    journey.check("wallet-credential")
    page.fill("input[name=session]", session_code)
    page.click("#present-form button[type=submit]")
    page.wait_for_selector("#presentation-qr")
    qr = page.locator("#presentation-qr").bounding_box()
    assert qr is not None and qr["x"] >= 0 and qr["x"] + qr["width"] <= width  # the whole code on the screen
    journey.check("wallet-qr")
    short = page.input_value("#presentation-compact")
    assert len(short) < 100
    verifier.fill("#id_payload", short)  # what a scanner reads from the compact code
    verifier.click("#verify-form button[type=submit]")
    assert verifier.locator("#verification-result").get_attribute("data-accepted") == "true"
    assert "Nguyễn Văn An" in verifier.inner_text("#disclosed-claims")

    # 4. read the access history: the pre-fill of the one draft appears once
    page.goto(f"{live_server.url}/so-cai/lich-su-truy-cap/")
    history = page.inner_text("main")
    assert history.count("Điền sẵn hồ sơ") == 1, history
    journey.check("access-history")

    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    assert not journey.failures, "\n".join(journey.failures)
