"""The officer's main path in a real browser (Debian's Chromium through Playwright): log in
with the form, search without diacritics, open the person, correct the hometown, and see the
success message, the new value and the history entry, with no CSP violation on the way."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# Fixture order matters: the data is written before Playwright starts. Code run after
# ``sync_playwright()`` has begun gets a database connection of its own (Playwright's greenlet),
# which nothing closes and which then blocks dropping the PostgreSQL test database.
def test_officer_corrects_hometown_in_the_browser(live_server, transactional_db, family, officer_hoan_kiem, browser):
    an = family["an"]
    context = browser.new_context(locale="en-US")  # an English browser still starts in Vietnamese
    page = context.new_page()
    console_messages: list[str] = []
    page.on("console", lambda msg: console_messages.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: console_messages.append(f"pageerror: {exc}"))

    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.fill("#id_username", "cb.hoankiem")
    page.fill("#id_password", "Mat-khau-thu-nghiem-1")
    page.click("button[type=submit]:has-text('Đăng nhập')")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "Công an phường Hoàn Kiếm" in page.inner_text("header")

    page.click("nav >> text=Tra cứu công dân")
    page.fill("#id_name", "nguyen van an")
    page.click("button:has-text('Tìm kiếm')")
    page.click("table >> text=Nguyễn Văn An")
    page.wait_for_url(f"**/persons/{an.id_number}/")
    assert "Nam Định" in page.inner_text("#field-hometown")

    page.click("text=Điều chỉnh thông tin")
    page.wait_for_url(f"**/persons/{an.id_number}/correct/")
    page.fill("#id_hometown", "Thái Bình")
    page.fill("#id_reason", "Sai quê quán khi nhập liệu")
    page.fill("#id_legal_ref", "Luật Căn cước 2023, Điều 10")
    page.click("button:has-text('Lưu')")
    page.wait_for_url(f"**/persons/{an.id_number}/")

    assert "Đã điều chỉnh thông tin công dân" in page.inner_text(".messages")
    assert "Thái Bình" in page.inner_text("#field-hometown")
    history = page.inner_text("#history")
    assert "Điều chỉnh thông tin" in history and "Sai quê quán khi nhập liệu" in history
    assert "Nam Định" in history and "Thái Bình" in history

    violations = [m for m in console_messages if "Content Security Policy" in m or "Refused to" in m]
    assert not violations, violations
    assert not [m for m in console_messages if m.startswith(("error", "pageerror"))], console_messages
    context.close()
