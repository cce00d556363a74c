"""The portal's own error pages (issue #19 item 2): 404, 403, CSRF refusal and 500 are translated
pages in the frame with a way back, and a form sent after the login expired is kept and filled
again after the new login (secrets never kept)."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from tests.services.test_services_citizen import BASE, login, make_account

DJANGO_BARE = ("Not Found</h1>", "CSRF verification failed", "Server Error (500)", "403 Forbidden")


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


urlpatterns = [path("boom/", _boom), path("forbidden/", _forbidden), path("", include("popid.urls"))]
handler403 = "popid.web.http_errors.permission_denied"
handler404 = "popid.web.http_errors.page_not_found"
handler500 = "popid.web.http_errors.server_error"


def _assert_portal_error(response, status: int, *, title: str) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert title in body
    assert 'class="skip-link"' in body and 'href="/' in body  # in the frame, with a way back
    assert not any(bare in body for bare in DJANGO_BARE)
    return body


@pytest.mark.django_db
def test_unknown_page_is_the_portals_404_in_both_languages(client):
    body = _assert_portal_error(client.get("/khong-co-trang-nay/"), 404, title="Không tìm thấy trang")
    assert 'href="/dich-vu-cong/"' in body
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})  # the language switch
    english = client.get("/khong-co-trang-nay/")
    _assert_portal_error(english, 404, title="Page not found")


@pytest.mark.django_db
def test_console_paths_lead_back_to_the_console(client):
    body = _assert_portal_error(client.get("/services/khong-co/"), 404, title="Không tìm thấy trang")
    assert 'href="/"' in body


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_server_error_page_is_translated_and_reveals_nothing():
    client = Client(raise_request_exception=False)
    body = _assert_portal_error(client.get("/boom/"), 500, title="Hệ thống đang gặp sự cố")
    assert "RuntimeError" not in body and "a bug" not in body


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_permission_denied_page(client):
    _assert_portal_error(client.get("/forbidden/"), 403, title="Không có quyền truy cập")


@pytest.mark.django_db
def test_csrf_refusal_says_the_form_went_stale_and_offers_a_reload(family):
    client = Client(enforce_csrf_checks=True)
    login(client, make_account(family["an"]))
    response = client.post(f"{BASE}/thu-tuc/temporary_residence/", {"address": "5 Hàng Gai"})
    body = _assert_portal_error(response, 403, title="Biểu mẫu đã hết hạn")
    assert f'href="{BASE}/thu-tuc/temporary_residence/"' in body  # reload the same form


def _draft_in(body: str) -> dict:
    match = re.search(r'<script id="popid-draft" type="application/json">(.*?)</script>', body, re.S)
    assert match, "no draft on the page"
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_a_form_sent_after_the_login_expired_is_kept_and_filled_after_login(client, family):
    form = f"{BASE}/thu-tuc/temporary_residence/"
    response = client.post(form, {"address": "5 Hàng Gai", "reason": "Đi làm", "password": "bí mật",
                                  "otp_code": "123456"})
    assert response.status_code == 302 and "/tai-khoan/dang-nhap/" in response["Location"]
    login_page = client.get(response["Location"])
    assert "Phiên đăng nhập đã hết hạn" in login_page.content.decode()

    login(client, make_account(family["an"]))  # the anonymous session (and its draft) is kept by login
    body = client.get(form).content.decode()
    assert "Đã điền lại thông tin" in body
    draft = _draft_in(body)
    assert draft["address"] == ["5 Hàng Gai"] and draft["reason"] == ["Đi làm"]
    assert "password" not in draft and "otp_code" not in draft
    assert "popid-draft" not in client.get(form).content.decode()  # once only


@pytest.mark.django_db
def test_a_draft_is_only_restored_on_its_own_page(client, family):
    client.post(f"{BASE}/thu-tuc/temporary_residence/", {"address": "5 Hàng Gai"})
    login(client, make_account(family["an"]))
    assert "popid-draft" not in client.get(f"{BASE}/").content.decode()
