"""The installable citizen app (issue #19) through Django's test client: the manifest (both
languages, real PNG icons of the declared sizes), the service worker's headers and rules (which
paths it may keep offline, and that officer pages and the API are never among them), the offline
page carrying no personal data, the favicon, and the citizen pages linking all of it without
inline code. The browser side is tests/browser/test_pwa_browser.py."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

from popid.web import pwa
from tests.services.test_services_citizen import login, make_account
from tests.web.test_web import assert_no_inline_code

pytestmark = pytest.mark.django_db


def worker_config(client) -> dict:
    body = client.get("/sw.js").content.decode()
    match = re.search(r"^const CONFIG = (\{.*\});$", body, re.M)
    assert match, "the worker carries its rules as JSON"
    return json.loads(match.group(1))


def test_manifest_is_installable_json_in_vietnamese_and_english(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/manifest+json")
    vi = json.loads(response.content)
    en = json.loads(client.get("/manifest.webmanifest?lang=en").content)
    assert vi["name"] == "PopID — Tài khoản định danh điện tử" and vi["lang"] == "vi"
    assert en["name"] == "PopID — Electronic identity account" and en["lang"] == "en"
    for manifest in (vi, en):
        assert manifest["id"] == manifest["start_url"] == "/tai-khoan/" and manifest["scope"] == "/"
        assert manifest["display"] == "standalone" and manifest["theme_color"] and manifest["background_color"]
    purposes = set()
    for icon in vi["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        with Image.open(path) as image:
            assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
        purposes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes
    assert {s["url"] for s in vi["shortcuts"]} == {"/vi-giay-to/", "/thong-bao/", "/dich-vu-cong/"}


def test_service_worker_is_served_from_the_root_uncached_under_the_strict_policy(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    version = re.search(r'^const VERSION = "([0-9a-f]{16})";$', response.content.decode(), re.M)
    assert version and version.group(1) == re.search(r'VERSION = "(\w+)"', client.get("/sw.js").content.decode())[1]


@pytest.mark.parametrize("path", [
    "/vi-giay-to/", "/vi-giay-to/giay-to/12/", "/so-cai/lich-su-truy-cap/", "/dich-vu-cong/ho-so/",
    "/dich-vu-cong/ho-so/261207-00070-ABCDEF/", "/dich-vu-cong/ho-so/261207-00070-ABCDEF/bien-nhan/", "/thong-bao/",
])
def test_wallet_history_dossiers_receipts_and_notifications_are_kept_offline(client, path):
    config = worker_config(client)
    assert any(re.search(p, path) for p in config["offlinePages"])
    assert any(re.search(p, path) for p in config["portalPages"])


@pytest.mark.parametrize("path", [
    "/persons/001090000001/", "/services/dossiers/", "/tai-khoan/can-bo/001090000001/", "/phat-nguoi/can-bo/",
    "/giay-to/", "/chia-se/quan-tri/", "/van-hanh/tac-vu-loi/", "/api/v1/services/citizen/dossiers",
    "/vi-giay-to/oid4vci/credential", "/vi-giay-to/to-chuc/bo-cong-an/jwks", "/tai-khoan/dang-nhap/", "/login/",
    "/dich-vu-cong/", "/tai-khoan/", "/dich-vu-cong/ho-so/X/tep/1/",
])
def test_officer_pages_api_and_other_pages_are_never_kept(client, path):
    config = worker_config(client)
    assert not any(re.search(p, path) for p in config["offlinePages"])
    if path.startswith(("/persons/", "/services/", "/tai-khoan/can-bo/", "/phat-nguoi/can-bo/", "/giay-to/",
                        "/chia-se/quan-tri/", "/van-hanh/", "/api/", "/vi-giay-to/oid4vci/", "/vi-giay-to/to-chuc/")):
        assert not any(re.search(p, path) for p in config["portalPages"])  # not even answered by the worker


def test_worker_forgets_at_logout_and_login(client):
    config = worker_config(client)
    assert config["logoutPaths"] == ["/tai-khoan/dang-xuat/"]
    assert "/tai-khoan/dang-nhap/" in config["loginPaths"]
    assert config["offlineUrl"] == "/ngoai-tuyen/" and config["maxAgeDays"] == pwa.MAX_AGE_DAYS
    body = client.get("/sw.js").content.decode()
    assert "caches.delete(PAGES)" in body


def test_offline_page_is_translated_and_carries_no_personal_data(client, family):
    account = make_account(family["an"], level=2)
    login(client, account)
    page = client.get("/ngoai-tuyen/")
    html = page.content.decode()
    assert page.status_code == 200 and "Không có kết nối mạng" in html
    assert family["an"].id_number not in html and family["an"].full_name not in html
    assert "/vi-giay-to/" in html and "/so-cai/lich-su-truy-cap/" in html and "/dich-vu-cong/ho-so/" in html
    assert_no_inline_code(html)
    assert 'id="offline-banner"' not in html  # the page itself says it: no "saved copy" banner
    client.post("/i18n/setlang/", {"language": "en", "next": "/ngoai-tuyen/"})
    assert "You are offline" in client.get("/ngoai-tuyen/").content.decode()


def test_worker_reads_the_language_cookie_the_switch_sets(client):
    """Offline, the worker shows the offline page in the cookie's language (Cookie Store API): the
    cookie it names must be the one the language switch sets, and readable outside HTTP."""
    config = worker_config(client)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/ngoai-tuyen/"})
    cookie = response.cookies[config["languageCookie"]]
    assert cookie.value == "en" and not cookie["httponly"]


def test_favicon_is_a_real_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # ICO header


def test_citizen_pages_link_the_manifest_worker_and_icons(client, family):
    login(client, make_account(family["an"], level=2))
    html = client.get("/tai-khoan/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=vi">' in html
    assert '<meta name="popid-service-worker" content="/sw.js">' in html
    assert 'src="/static/web/pwa.js"' in html and 'rel="apple-touch-icon"' in html
    assert 'id="offline-banner" role="status" hidden' in html
    assert re.search(r'<form action="/tai-khoan/dang-xuat/" method="post" data-logout>', html)
    assert_no_inline_code(html)
