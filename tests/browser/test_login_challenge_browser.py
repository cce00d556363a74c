"""Issue #10, finding 5, in a real browser: from an address with many failed logins, the login
page's static script (no inline script: strict CSP) solves the server's proof-of-work challenge
and the officer logs in with the right password."""

from __future__ import annotations

import pytest

from popid.core import throttle
from popid.core.net import Client as Caller

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sprayed_address(transactional_db):
    """50 failed console logins on 50 accounts from 127.0.0.1, written before the browser starts."""
    caller = Caller(ip="127.0.0.1")
    for i in range(throttle.IP_FAILURES_PER_WINDOW):
        throttle.begin_login(caller, scope=throttle.CONSOLE_LOGIN, account=f"nguoi-{i}").failed()
    return "127.0.0.1"


def test_the_browser_solves_the_challenge_and_the_officer_logs_in(live_server, officer_hoan_kiem, sprayed_address,
                                                                   browser):
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server.url}/login/")
    assert page.locator("input[name=pow_challenge]").get_attribute("data-pow-bits") == str(throttle.POW_BASE_BITS)
    page.fill("#id_username", "cb.hoankiem")
    page.fill("#id_password", "Mat-khau-thu-nghiem-1")
    button = page.locator("button[type=submit]:has-text('Đăng nhập')")
    page.wait_for_function("document.querySelector('input[name=pow_solution]').value !== ''", timeout=120_000)
    assert button.is_enabled() and "Đã xác minh trình duyệt" in page.inner_text("#pow-status")
    button.click()
    page.wait_for_url(f"{live_server.url}/")
    assert "Công an phường Hoàn Kiếm" in page.inner_text("header")
    assert not problems, problems
