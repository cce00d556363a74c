"""The installable citizen app (issue #19) in Debian's Chromium at 390 px: Chromium finds the
manifest valid and the app installable (DevTools ``Page.getInstallabilityErrors`` answers no
error; the live server's http://localhost is a secure context), the service worker registers and
controls the portal, the wallet with its credential, a dossier receipt, the access-history check
and the notifications load with the network cut after one visit, a page never visited gives the
translated offline page, and logging out deletes the saved pages: offline again, the wallet is
gone. axe-core finds no serious or critical violation on the new pages.

A persistent browser profile is used because Chromium refuses to install from an incognito
context (Playwright's ordinary contexts are incognito)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM_ARGS
from tests.ledger.test_ledger_history import make_account, session_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
ARTEFACTS = Path(os.environ.get("POPID_ARTEFACTS", "var/artefacts")) / "screenshots"
PDF = b"%PDF-1.4\n% test\n"


@pytest.fixture
def phone(tmp_path) -> Iterator:
    """A 390 × 844 phone profile of Debian's Chromium (persistent: not incognito)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = os.environ.get("POPID_BROWSER", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.skip(f"no browser at {executable}")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, args=CHROMIUM_ARGS,
            viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True, has_touch=True)
        yield context
        context.close()


@pytest.fixture
def citizen(live_server, transactional_db, family, settings, tmp_path, officer_hoan_kiem) -> dict:
    """Nguyễn Văn An at level 2 with his demo documents and one submitted dossier (a receipt)."""
    from popid.documents.demo import seed_documents
    from popid.services import dossiers

    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    account = make_account(family["an"], level=2)
    seed_documents(demo_id_numbers=[family["an"].id_number])
    dossier, _created = dossiers.submit_dossier(
        account=account, procedure_code="temporary_residence",
        data={"commune_code": "00070", "address": "5 Hàng Gai", "valid_from": "2026-12-01",
              "valid_until": "2027-12-01"},
        attachments=[dossiers.IncomingFile("proof_of_residence", "a.pdf", PDF, "application/pdf")])
    return {"session": session_for(account), "code": dossier.code, "id_number": family["an"].id_number}


def _axe_serious(page) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))  # through DevTools, not a <script>: the CSP stays strict
    return list(page.evaluate("""async () => {
        const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(' | '));
    }"""))


def _shot(page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"pwa-{name}-390.png"), full_page=True)


def _controlled(page) -> None:
    """Wait until the service worker is active and controls this page."""
    page.wait_for_function("() => document.documentElement.dataset.serviceWorker === 'ready'")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()
        page.wait_for_function("() => !!navigator.serviceWorker.controller")


def _saved_paths(page) -> list[str]:
    return page.evaluate("""async () => {
        const names = await caches.keys();
        const paths = [];
        for (const name of names.filter(n => n === 'popid-pages')) {
            for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
        }
        return paths.sort();
    }""")


def _login(phone, live_server, citizen):
    phone.add_cookies([{"name": "sessionid", "value": citizen["session"], "url": live_server.url}])
    return phone.pages[0] if phone.pages else phone.new_page()


def test_chromium_finds_the_app_installable_and_the_worker_registered(live_server, citizen, phone):
    page = _login(phone, live_server, citizen)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/tai-khoan/")
    _controlled(page)
    cdp = phone.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    assert manifest["url"].endswith("/manifest.webmanifest?lang=vi")
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    registration = page.evaluate("""async () => {
        const r = await navigator.serviceWorker.getRegistration('/');
        return {scope: r.scope, script: r.active.scriptURL};
    }""")
    assert registration == {"scope": f"{live_server.url}/", "script": f"{live_server.url}/sw.js"}
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_wallet_receipt_history_and_notifications_offline_then_gone_after_logout(live_server, citizen, phone):
    page = _login(phone, live_server, citizen)
    page.goto(f"{live_server.url}/vi-giay-to/")
    _controlled(page)
    page.locator("button[data-add]").first.click()  # the driving licence, key held by PopID
    page.wait_for_url("**/vi-giay-to/giay-to/*/")
    credential_path = page.url.removeprefix(live_server.url)
    document_ref = page.inner_text("h1 .mono")
    receipt = f"/dich-vu-cong/ho-so/{citizen['code']}/bien-nhan/"
    kept = ["/vi-giay-to/", credential_path, receipt, "/so-cai/lich-su-truy-cap/", "/thong-bao/"]
    for path in kept:
        assert page.goto(f"{live_server.url}{path}").status == 200, path
    assert set(kept) <= set(_saved_paths(page))
    assert page.is_hidden("#offline-banner")

    phone.set_offline(True)
    page.goto(f"{live_server.url}/vi-giay-to/")
    assert document_ref in page.inner_text("#wallet-credentials")
    assert page.is_visible("#offline-banner") and "cần có mạng để tạo mã mới" in page.inner_text("#offline-banner")
    _shot(page, "wallet-offline")
    page.goto(f"{live_server.url}{credential_path}")
    assert document_ref in page.inner_text("h1") and page.is_disabled("#present-form button[type=submit]")
    page.goto(f"{live_server.url}{receipt}")
    assert citizen["code"] in page.inner_text("main")
    page.goto(f"{live_server.url}/so-cai/lich-su-truy-cap/")
    assert "Lịch sử truy cập dữ liệu" in page.inner_text("h1")
    _shot(page, "access-history-offline")
    page.goto(f"{live_server.url}/thong-bao/")
    assert "Thông báo" in page.inner_text("h1")
    page.goto(f"{live_server.url}/tai-khoan/thiet-bi/")  # never visited: the offline page
    assert "Không có kết nối mạng" in page.inner_text("h1")
    assert citizen["id_number"] not in page.content()
    _shot(page, "offline-page")
    assert _axe_serious(page) == []

    phone.set_offline(False)
    page.goto(f"{live_server.url}/tai-khoan/")
    page.click("header form[data-logout] button[type=submit]")
    page.wait_for_url("**/tai-khoan/dang-nhap/**")
    assert _saved_paths(page) == []
    phone.set_offline(True)
    for path in kept:
        page.goto(f"{live_server.url}{path}")
        assert "Không có kết nối mạng" in page.inner_text("h1"), path
        html = page.content()
        assert document_ref not in html and citizen["code"] not in html and citizen["id_number"] not in html, path


def test_notifications_page_counts_unread_in_both_bars_and_passes_axe(live_server, citizen, phone):
    from tests.ops.test_ops_tasks import run_worker

    run_worker()  # the dossier's "received" notification
    page = _login(phone, live_server, citizen)
    page.goto(f"{live_server.url}/thong-bao/")
    assert page.inner_text("#bottom-unread-count").strip().endswith("1")
    assert citizen["code"] in page.inner_text("#notifications")
    box = page.locator("#bottom-inbox").bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    _shot(page, "notifications")
    assert _axe_serious(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})  # the wide screen: the top navigation's count
    assert page.inner_text("#unread-count").strip() == "1" and _axe_serious(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#notifications a.btn-primary")
    page.wait_for_url(f"**/dich-vu-cong/ho-so/{citizen['code']}/")
    page.goto(f"{live_server.url}/thong-bao/")
    assert page.locator("#bottom-unread-count").count() == 0


def test_offline_page_follows_the_citizens_language(live_server, citizen, phone):
    """Switched to English, the next page tells the worker, which keeps the English offline page."""
    page = _login(phone, live_server, citizen)
    page.goto(f"{live_server.url}/tai-khoan/")
    _controlled(page)
    page.click(".lang-switch button[value=en]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    page.wait_for_function("""async () => {
        for (const name of await caches.keys()) {
            if (!name.startsWith('popid-shell-')) continue;
            const shell = await caches.open(name);
            const chosen = await shell.match('/ngoai-tuyen/?kept=language');
            const offline = await shell.match('/ngoai-tuyen/?lang=en', { ignoreVary: true });
            if (chosen && await chosen.text() === 'en' && offline &&
                offline.headers.get('Content-Language') === 'en') return true;
        }
        return false;
    }""")
    phone.set_offline(True)
    page.goto(f"{live_server.url}/tai-khoan/bao-mat/")
    assert page.inner_text("h1") == "You are offline", page.content()[:600]
    assert page.get_attribute("html", "lang") == "en"

    phone.set_offline(False)  # back to Vietnamese: the page kept at install is shown again
    page.goto(f"{live_server.url}/tai-khoan/")
    page.click(".lang-switch button[value=vi]")
    page.wait_for_function("() => document.documentElement.lang === 'vi'")
    page.wait_for_function("""async () => {
        for (const name of await caches.keys()) {
            if (!name.startsWith('popid-shell-')) continue;
            const chosen = await (await caches.open(name)).match('/ngoai-tuyen/?kept=language');
            if (chosen && await chosen.text() === 'vi') return true;
        }
        return false;
    }""")
    phone.set_offline(True)
    page.goto(f"{live_server.url}/tai-khoan/bao-mat/")
    assert page.inner_text("h1") == "Không có kết nối mạng", page.content()[:600]
