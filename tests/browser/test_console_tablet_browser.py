"""The officer console on a tablet (issue #19): at 768 and 1024 pixels an administrator's
navigation — seventeen destinations — stays on one line as a few area menus, each menu opens
with the keyboard or a tap, its links are 44-pixel targets inside the screen, Escape closes it,
no page is wider than the screen, and axe-core finds no serious or critical violation.
Screenshots go to ``$POPID_ARTEFACTS/screenshots`` (default var/artefacts) for CI to keep."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from popid.core.models import StaffRole
from tests.browser.test_citizen_mobile_browser import ARTEFACTS, _axe_serious

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mat-khau-quan-tri-1"
CONSOLE_PAGES = {"home": "/", "search": "/search/", "quality": "/quality/", "dossiers": "/services/dossiers/"}


@pytest.fixture
def admin_login(live_server, transactional_db, family) -> str:
    user = get_user_model().objects.create_user(username="qt.tablet", password=PASSWORD, first_name="Quản trị")
    StaffRole.objects.create(user=user, role="admin", level="nation", unit_code="", unit_name="")
    return user.username


def _login(browser, live_server, username: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 1024 if width < 1000 else 768}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]:has-text('Đăng nhập')")
    page.wait_for_url(f"{live_server.url}/")
    return context, page


@pytest.mark.parametrize("width", [768, 1024])
def test_console_navigation_fits_a_tablet_in_area_menus(live_server, admin_login, browser, width):
    context, page = _login(browser, live_server, admin_login, width)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    nav = page.locator("nav.site-nav")
    destinations = nav.locator("a")
    assert destinations.count() == 17  # every console area is still reachable
    tops = nav.locator(".nav-row > a, .nav-row > details > summary")
    rows = {round(tops.nth(i).bounding_box()["y"]) for i in range(tops.count())}
    assert len(rows) == 1, f"the navigation wraps onto {len(rows)} lines at {width}px"
    for i in range(tops.count()):
        box = tops.nth(i).bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= width, box
        assert tops.nth(i).inner_text().strip()
        colour = tops.nth(i).evaluate("e => getComputedStyle(e).color")
        assert colour != "rgb(255, 255, 255)", "a menu title inherits the header's white text on the white bar"

    failures: list[str] = []
    groups = nav.locator("details.nav-group")
    for i in range(groups.count()):
        summary = groups.nth(i).locator("summary")
        summary.focus()
        page.keyboard.press("Enter")  # keyboard opens it
        links = groups.nth(i).locator(".nav-menu a")
        for j in range(links.count()):
            box = links.nth(j).bounding_box()
            if not links.nth(j).is_visible() or box["height"] < 44 or box["x"] < 0 or box["x"] + box["width"] > width:
                failures.append(f"menu {i} link {j}: {box}")
        others_open = page.evaluate("document.querySelectorAll('.nav-group[open]').length")
        if others_open != 1:
            failures.append(f"menu {i}: {others_open} menus open at once")
        if i == 0:
            page.screenshot(path=str(ARTEFACTS / f"console-menu-{width}.png"))
    page.keyboard.press("Escape")
    assert page.evaluate("document.querySelectorAll('.nav-group[open]').length") == 0
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"  # focus back on the menu button

    nav.locator("summary:has-text('Dân cư')").click()  # a tap opens the menu and its link navigates
    nav.locator("a:has-text('Chất lượng dữ liệu')").click()
    page.wait_for_url("**/quality/")
    assert "current" in (nav.locator("summary:has-text('Dân cư')").get_attribute("class") or "")

    for name, path in CONSOLE_PAGES.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        page.screenshot(path=str(ARTEFACTS / f"console-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            failures.append(f"{path}: {overflow}px wider than the screen")
        failures += [f"{path}: {v}" for v in _axe_serious(page)]
    context.close()
    assert not failures, "\n".join(failures)
