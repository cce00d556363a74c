"""The analytics pages on a 390-pixel phone in Debian's Chromium, in Vietnamese and in English:
no page wider than the screen (tables scroll inside their box, charts shrink), and axe-core
(vendored, tests/browser/vendor/) finds no serious or critical violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from popid.analytics import forecast as fc
from popid.analytics import services, synthetic
from popid.analytics.models import Alert
from popid.analytics.store import Staged, Store
from popid.core.access import Actor
from tests.conftest import make_staff

from .test_citizen_mobile_browser import _axe_serious

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "situation": "/phan-tich/?don_vi=01&loai=incident",
    "situation-dossiers": "/phan-tich/?don_vi=00070&loai=dossier",
    "forecast": "/phan-tich/du-bao/00070/incident/",
    "staffing": "/phan-tich/nhan-luc/?don_vi=01",
    "notices": "/phan-tich/thong-bao/",
}
TITLES = {"vi": "Tình hình, dự báo", "en": "Situation and forecasts"}


@pytest.fixture
def supervisor_session(live_server, transactional_db, settings, tmp_path) -> str:
    """A Hà Nội province supervisor, a store with 80 weeks of two communes, forecasts (fast
    path), an open alert and its notice. Written before Playwright starts (see the console test)."""
    settings.DATA_DIR = str(tmp_path)
    store = Store()
    history = synthetic.generate(communes=["00070", "00004"], end=fc.today(), weeks=80, seed=4, anomaly_rate=0)
    staged = Staged()
    store.stage("daily", history.daily, staged)
    store.stage("incidents", history.incidents, staged)
    store.publish(staged)
    user = make_staff("gs.hanoi", role="supervisor", level="province", unit_code="01", unit_name="Công an TP Hà Nội")
    services.run_forecasts(actor=Actor.system("test"), store=store, mode="fast", alert_weeks=0)
    alert = Alert.objects.create(commune_code="00070", province_code="01", category="incident",
                                 week_start=fc.last_complete_week() - timedelta(weeks=1), observed=90, expected=20,
                                 lower=8, upper=33, model="Harmonic", evidence={"previous_weeks": []})
    services.notify_supervisors(alert_id=alert.pk)
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.mark.parametrize("language", ["vi", "en"])
def test_analytics_pages_fit_a_phone_and_pass_axe(live_server, supervisor_session, browser, language):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    context.add_cookies([{"name": "sessionid", "value": supervisor_session, "url": live_server.url},
                         {"name": "django_language", "value": language, "url": live_server.url}])
    context.set_default_timeout(240_000)  # a loaded shared machine draws the charts slowly
    page = context.new_page()
    failures: list[str] = []
    for name, path in PAGES.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, (name, response and response.status)
        assert page.locator("html").get_attribute("lang") == language
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            culprits = page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(-3).map(e => e.tagName + '.' + e.className + '#' + e.id)""")
            failures.append(f"{name}: {overflow}px wider than the screen: {culprits}")
        failures += [f"{name}: {v}" for v in _axe_serious(page)]
    page.goto(f"{live_server.url}{PAGES['situation']}")
    assert TITLES[language] in page.inner_text("h1")
    if language == "en":
        text = page.inner_text("main")
        assert "Hot spots" in text and "Last 8 weeks" in text and "Tình hình" not in text
    context.close()
    assert not failures, "\n".join(failures)
