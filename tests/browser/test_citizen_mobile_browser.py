"""The citizen portal on a 390-pixel phone and a 1280-pixel screen (issue #19), in Debian's
Chromium: a bottom bar of at most five entries with 44-pixel targets on the phone, the full top
navigation on the wide screen, no page wider than the screen, a skip link first in the Tab order,
and axe-core (vendored, tests/browser/vendor/) finding no serious or critical violation on any
main page. Screenshots go to ``$POPID_ARTEFACTS`` (default ``var/artefacts``) for CI to keep."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ledger.test_ledger_history import make_account, session_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
ARTEFACTS = Path(os.environ.get("POPID_ARTEFACTS", "var/artefacts")) / "screenshots"
PAGES = {
    "home": "/tai-khoan/",
    "services": "/dich-vu-cong/",
    "dossiers": "/dich-vu-cong/ho-so/",
    "inbox": "/dich-vu-cong/thong-bao/",
    "wallet": "/vi-giay-to/",
    "access-history": "/so-cai/lich-su-truy-cap/",
    "menu": "/danh-muc/",
    "devices": "/tai-khoan/thiet-bi/",
}


@pytest.fixture
def citizen_session(live_server, transactional_db, family) -> str:
    return session_for(make_account(family["an"], level=2))


def _open(browser, live_server, session_key: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 600 else 900}, locale="vi-VN")
    context.add_cookies([{"name": "sessionid", "value": session_key, "url": live_server.url}])
    return context


def _axe_serious(page) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))  # through DevTools, not a <script>: the CSP stays strict
    result = page.evaluate("""async () => {
        const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(' | '));
    }""")
    return list(result)


@pytest.mark.parametrize("width", [390, 1280])
def test_main_citizen_pages_fit_the_screen_and_pass_axe(live_server, citizen_session, browser, width):
    context = _open(browser, live_server, citizen_session, width)
    page = context.new_page()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for name, path in PAGES.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, (path, response and response.status)
        page.screenshot(path=str(ARTEFACTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            culprits = page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(-3).map(e => e.tagName + '.' + e.className + '#' + e.id)""")
            failures.append(f"{path}: {overflow}px wider than the screen: {culprits}")
        failures += [f"{path}: {v}" for v in _axe_serious(page)]
        bottom = page.locator("nav.bottom-nav")
        if width < 600:
            links = bottom.locator("a")
            if not bottom.is_visible() or links.count() > 5:
                failures.append(f"{path}: bottom navigation missing or over five entries")
            for i in range(links.count()):
                box = links.nth(i).bounding_box()
                if box is None or box["height"] < 44 or box["width"] < 44:
                    failures.append(f"{path}: bottom link {i} smaller than 44 px: {box}")
            if page.locator("nav.portal-top-nav").is_visible():
                failures.append(f"{path}: the long top navigation shows on the phone")
        elif bottom.is_visible():
            failures.append(f"{path}: bottom navigation shows on the wide screen")
    context.close()
    assert not failures, "\n".join(failures)


def test_skip_link_is_the_first_tab_stop_and_reaches_the_content(live_server, citizen_session, browser):
    context = _open(browser, live_server, citizen_session, 390)
    page = context.new_page()
    page.goto(f"{live_server.url}/dich-vu-cong/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className + '|' + document.activeElement.getAttribute('href')")
    assert focused == "skip-link|#main"
    assert page.locator(".skip-link").is_visible()  # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    context.close()


def test_tables_become_labelled_cards_on_the_phone(live_server, transactional_db, family, browser):
    from tests.ledger.test_ledger_history import read

    read(family["an"], purpose="Tra cứu để xem dạng thẻ")
    session_key = session_for(make_account(family["an"], level=2))
    context = _open(browser, live_server, session_key, 390)
    page = context.new_page()
    page.goto(f"{live_server.url}/so-cai/lich-su-truy-cap/")
    table = page.locator("main table.table").first
    assert "cards-ready" in (table.get_attribute("class") or "")
    assert table.locator("tbody tr td").first.get_attribute("data-label") == "Thời gian"
    box = table.locator("thead").bounding_box()
    assert box is None or box["x"] < 0  # the headings move into the cards
    page.goto(f"{live_server.url}/tai-khoan/thiet-bi/")  # an empty table's one wide cell needs no label
    empty = page.locator("main table.table tbody td[colspan]").first
    assert empty.get_attribute("data-label") == ""
    context.close()


def test_the_axe_check_finds_a_real_violation(live_server, citizen_session, browser):
    """The guard can fail: an image without a text alternative on a page is reported."""
    context = _open(browser, live_server, citizen_session, 390)
    page = context.new_page()
    page.goto(f"{live_server.url}/danh-muc/")
    page.evaluate("document.querySelector('main').appendChild(document.createElement('img')).src = "
                  "'/static/web/emblem.svg'")
    assert any(v.startswith("image-alt") for v in _axe_serious(page))
    context.close()
