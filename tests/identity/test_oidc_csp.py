"""Issue #10 finding 1, the policy side: pages that continue an OIDC authorization allow their
forms to end at exactly the registered redirect origin of THAT client; every other page keeps
``form-action 'self'``. The browser side is tests/browser/test_oidc_cross_origin.py."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.http import HttpResponse
from django.test import override_settings

from popid.core.middleware import allow_form_action, origin_of, policy_for
from popid.identity.oidc import services
from tests.identity.test_oidc_flow import authorize_params, browser_login, make_account

A_CALLBACK = "https://bank-a.example:8443/oidc/cb"
B_CALLBACK = "https://portal-b.example/cb"


def form_action(response) -> list[str]:
    directives = [d.strip().split() for d in response["Content-Security-Policy"].split(";")]
    matching = [d[1:] for d in directives if d and d[0] == "form-action"]
    assert len(matching) == 1, response["Content-Security-Policy"]
    return matching[0]


@pytest.fixture
def clients(db):
    a, _ = services.register_client(name="Ngân hàng A", redirect_uris=[A_CALLBACK],
                                    token_endpoint_auth_method="client_secret_post")
    b, _ = services.register_client(name="Cổng B", redirect_uris=[B_CALLBACK],
                                    token_endpoint_auth_method="client_secret_post")
    return a, b


def authorize_url(client_id: str, **extra) -> str:
    return f"/oidc/authorize?{urlencode(authorize_params(client_id, **extra))}"


# --- the policy itself ------------------------------------------------------------------------
def test_origin_of_accepts_only_plain_http_origins():
    assert origin_of("https://Bank-A.example:8443/oidc/cb?x=1#f") == "https://bank-a.example:8443"
    assert origin_of("http://127.0.0.1:5000/cb") == "http://127.0.0.1:5000"
    assert origin_of("http://[::1]:8000/cb") == "http://[::1]:8000"
    for bad in ("javascript:alert(1)", "data:text/html,x", "/oidc/cb", "//evil.example/cb", "https://",
                "https://a.example:99999/cb", "https://a b.example/cb", "ftp://a.example/"):
        assert origin_of(bad) is None, bad


def test_policy_for_adds_origins_to_form_action_only():
    response = allow_form_action(HttpResponse(), ["https://a.example/cb", None, "javascript:x",
                                                  "https://a.example/other"])
    policy = policy_for(response)
    assert "form-action 'self' https://a.example" in policy
    assert policy.count("https://a.example") == 1  # only in form-action, once
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    with override_settings(CONTENT_SECURITY_POLICY="default-src 'self'; form-action 'none'"):
        assert policy_for(response) == "default-src 'self'; form-action https://a.example"
    assert policy_for(HttpResponse()).endswith("form-action 'self'")


# --- ordinary pages ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/tai-khoan/dang-nhap/", "/login/", "/tai-khoan/dang-ky/",
                                  "/tai-khoan/dang-nhap/?next=/tai-khoan/thiet-bi/"])
def test_ordinary_pages_keep_form_action_self_only(client, clients, path):
    response = client.get(path)
    assert response.status_code == 200
    assert form_action(response) == ["'self'"]


# --- the consent page ---------------------------------------------------------------------------
def test_consent_page_allows_only_the_registered_origin_of_its_client(client, family, clients):
    a, b = clients
    browser_login(client, make_account(family["an"]))
    page_a = client.get(authorize_url(a.client_id, redirect_uri=A_CALLBACK, prompt="consent"))
    assert page_a.status_code == 200 and b"decision" in page_a.content
    assert form_action(page_a) == ["'self'", "https://bank-a.example:8443"]
    page_b = client.get(authorize_url(b.client_id, redirect_uri=B_CALLBACK, prompt="consent"))
    assert form_action(page_b) == ["'self'", "https://portal-b.example"]


def test_refused_authorization_pages_allow_no_other_origin(client, family, clients):
    a, _b = clients
    browser_login(client, make_account(family["an"]))
    # B's redirect URI with A's client id: an error page, never a redirect, no extra origin
    wrong = client.get(authorize_url(a.client_id, redirect_uri=B_CALLBACK))
    assert wrong.status_code == 400 and form_action(wrong) == ["'self'"]
    unknown = client.get(authorize_url("no-such-client", redirect_uri=A_CALLBACK))
    assert unknown.status_code == 400 and form_action(unknown) == ["'self'"]


# --- login, step-up and OTP pages continuing an authorization -------------------------------------
def test_login_page_continuing_an_authorization_allows_that_clients_origin_only(client, clients):
    a, b = clients
    page = client.get("/tai-khoan/dang-nhap/", {"next": authorize_url(a.client_id, redirect_uri=A_CALLBACK)})
    assert form_action(page) == ["'self'", "https://bank-a.example:8443"]
    # another client's registered URI under A's client id is not A's: nothing added
    forged = client.get("/tai-khoan/dang-nhap/", {"next": authorize_url(a.client_id, redirect_uri=B_CALLBACK)})
    assert form_action(forged) == ["'self'"]
    # an absolute or scheme-relative next, another path, or an unknown client: nothing added
    for next_url in (f"https://evil.example{authorize_url(a.client_id, redirect_uri=A_CALLBACK)}",
                     f"//evil.example{authorize_url(a.client_id, redirect_uri=A_CALLBACK)}",
                     f"/tai-khoan/?client_id={a.client_id}&redirect_uri={A_CALLBACK}",
                     authorize_url("no-such-client", redirect_uri=A_CALLBACK)):
        assert form_action(client.get("/tai-khoan/dang-nhap/", {"next": next_url})) == ["'self'"], next_url
    # a failed login re-renders the form with the same allowance (next travels in the POST)
    failed = client.post("/tai-khoan/dang-nhap/", {"id_number": "001090000001", "password": "sai-mat-khau-1",
                                                    "next": authorize_url(b.client_id, redirect_uri=B_CALLBACK)})
    assert failed.status_code in {401, 422} and form_action(failed) == ["'self'", "https://portal-b.example"]


def test_disabled_client_gets_no_allowance(client, clients):
    a, _b = clients
    services.disable_client(client_id=a.client_id, by="test")
    page = client.get("/tai-khoan/dang-nhap/", {"next": authorize_url(a.client_id, redirect_uri=A_CALLBACK)})
    assert form_action(page) == ["'self'"]


def test_step_up_page_continuing_an_authorization_allows_that_clients_origin(client, family, clients):
    a, _b = clients
    browser_login(client, make_account(family["an"], level=2))
    page = client.get("/tai-khoan/xac-thuc-nang-cao/",
                      {"next": authorize_url(a.client_id, redirect_uri=A_CALLBACK, acr_values="level-2")})
    assert page.status_code == 200
    assert form_action(page) == ["'self'", "https://bank-a.example:8443"]


def test_otp_page_of_a_new_device_continuing_an_authorization(client, family, clients, settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the SMS outbox of this test
    a, _b = clients
    an = make_account(family["an"])
    login = client.post("/tai-khoan/dang-nhap/", {"id_number": an.person.id_number,
                                                   "password": "Mat-khau-cong-dan-1",
                                                   "next": authorize_url(a.client_id, redirect_uri=A_CALLBACK)})
    assert login.status_code == 302 and login["Location"].endswith("/xac-thuc-otp/")
    otp_page = client.get("/tai-khoan/xac-thuc-otp/")
    assert otp_page.status_code == 200
    assert form_action(otp_page) == ["'self'", "https://bank-a.example:8443"]


def test_pushed_request_continuation_uses_the_pushed_redirect_uri(client, family, clients):
    a, secret = services.register_client(name="PAR", redirect_uris=[A_CALLBACK, "https://bank-a.example/alt"],
                                         token_endpoint_auth_method="client_secret_post")
    pushed = client.post("/oidc/par", {**authorize_params(a.client_id, redirect_uri="https://bank-a.example/alt"),
                                       "client_secret": secret}).json()
    query = urlencode({"client_id": a.client_id, "request_uri": pushed["request_uri"]})
    first = client.get(f"/oidc/authorize?{query}")  # binds the pushed request, then sends to login
    assert first.status_code == 302
    page = client.get("/tai-khoan/dang-nhap/", {"next": f"/oidc/authorize?{query}"})
    assert form_action(page) == ["'self'", "https://bank-a.example"]
    # another client's id with this request_uri is not a continuation of it
    other = urlencode({"client_id": clients[1].client_id, "request_uri": pushed["request_uri"]})
    assert form_action(client.get("/tai-khoan/dang-nhap/", {"next": f"/oidc/authorize?{other}"})) == ["'self'"]
