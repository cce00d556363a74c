"""OIDC provider, happy paths: discovery/JWKS, the full code + PKCE flow with Authlib's client as
the relying party against a live server, consent memory, step-up, pairwise subjects,
guardianship, PAR, logout. Attacks are in test_oidc_attacks.py."""

from __future__ import annotations

import re
import secrets
import time
from importlib import import_module
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from popid.core.models import AccessRecord
from popid.identity.auth import login_citizen
from popid.identity.models import CitizenAccount, Guardianship
from popid.identity.oidc import selectors, services
from popid.identity.oidc.models import Consent, Token

RP_CALLBACK = "https://dichvucong.example/callback"
VERIFIER = "v" * 64


# --- helpers shared with test_oidc_attacks ------------------------------------------------
def make_account(person, *, level: int = 1) -> CitizenAccount:
    user = get_user_model().objects.create_user(username=person.id_number, password="Mat-khau-cong-dan-1")
    return CitizenAccount.objects.create(
        user=user, person=person, level=level, phone="0912345678", phone_verified_at=timezone.now(),
        **({"level2_activated_at": timezone.now(), "level2_officer": "cb.hoankiem"} if level == 2 else {}))


def login_session(account: CitizenAccount, *, amr: list[str] | None = None, acting_for=None) -> str:
    """Log in through the accounts contract (identity.auth.login_citizen); returns the session key."""
    request = RequestFactory().get("/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    login_citizen(request, account=account, amr=amr or ["pwd"])
    if acting_for is not None:
        request.session["popid_acting_for"] = acting_for.pk
    request.session.save()
    return request.session.session_key


def browser_login(client, account, **kwargs) -> None:
    client.cookies[settings.SESSION_COOKIE_NAME] = login_session(account, **kwargs)


def authorize_params(client_id: str, **extra) -> dict[str, str]:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": RP_CALLBACK,
              "scope": "openid profile", "state": "st-123", "nonce": f"n-{secrets.token_hex(6)}",
              "code_challenge": create_s256_code_challenge(VERIFIER), "code_challenge_method": "S256"}
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def query_of(response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def get_code(client, rp, **extra) -> str:
    """Authorize (consenting if asked) and return the code from the redirect."""
    response = client.get("/oidc/authorize", authorize_params(rp.client_id, **extra))
    if response.status_code == 200:
        response = client.post(f"/oidc/authorize?{response.wsgi_request.META['QUERY_STRING']}", {"decision": "allow"})
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith(RP_CALLBACK), response["Location"]
    return query_of(response)["code"]


def exchange(client, rp_secret, code, verifier=VERIFIER, **extra):
    rp, secret = rp_secret
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": RP_CALLBACK,
            "code_verifier": verifier, "client_id": rp.client_id, "client_secret": secret, **extra}
    return client.post("/oidc/token", {k: v for k, v in data.items() if v is not None})


@pytest.fixture
def an(family):
    return make_account(family["an"])


@pytest.fixture
def rp(db):
    return services.register_client(name="Cổng dịch vụ công", redirect_uris=[RP_CALLBACK],
                                    token_endpoint_auth_method="client_secret_post",
                                    post_logout_redirect_uris=["https://dichvucong.example/bye"])


# --- discovery ------------------------------------------------------------------------------
def test_discovery_and_jwks_publish_es256_rs256_s256_pairwise(client, db):
    meta = client.get("/.well-known/openid-configuration").json()
    assert meta["issuer"] == "http://testserver"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["subject_types_supported"] == ["pairwise"]
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    assert meta["pushed_authorization_request_endpoint"].endswith("/oidc/par")
    assert meta["acr_values_supported"] == ["level-1", "level-2"]
    jwks = client.get("/oidc/jwks").json()
    assert {k["alg"] for k in jwks["keys"]} == {"ES256", "RS256"}
    assert all("d" not in k for k in jwks["keys"])


# --- the real client --------------------------------------------------------------------------
@pytest.fixture
def live_rp(live_server, an, settings):
    settings.SESSION_COOKIE_SECURE = False  # live_server is plain http
    settings.CSRF_COOKIE_SECURE = False
    rp, secret = services.register_client(name="Ngân hàng Thử nghiệm", redirect_uris=[RP_CALLBACK],
                                          token_endpoint_auth_method="client_secret_basic")
    return rp, secret


def test_full_code_flow_with_authlib_client(live_server, live_rp, an):
    """The RP lives only here: Authlib's OAuth2Session does PKCE S256, the token request with
    client_secret_basic, and we verify the ID token against the published JWKS and nonce."""
    rp, secret = live_rp
    base = live_server.url
    meta = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
    rp_session = OAuth2Session(rp.client_id, secret, scope="openid profile popid.id_number address",
                               redirect_uri=RP_CALLBACK, code_challenge_method="S256",
                               token_endpoint_auth_method="client_secret_basic")
    verifier = "k" * 50
    nonce = "nonce-" + str(time.time())
    url, state = rp_session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier,
                                                     nonce=nonce)

    browser = requests.Session()
    browser.cookies.set(settings.SESSION_COOKIE_NAME, login_session(an))
    page = browser.get(url, allow_redirects=False, timeout=10)
    assert page.status_code == 200 and "Ngân hàng Thử nghiệm" in page.text  # consent screen
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    back = browser.post(url, data={"csrfmiddlewaretoken": csrf, "decision": "allow"}, allow_redirects=False,
                        headers={"Referer": url}, timeout=10)
    assert back.status_code == 302
    callback = back.headers["Location"]
    assert callback.startswith(RP_CALLBACK)

    token = rp_session.fetch_token(meta["token_endpoint"], authorization_response=callback, state=state,
                                   code_verifier=verifier)
    keyset = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keyset, algorithms=["ES256"])
    claims = id_token.claims
    assert id_token.header["alg"] == "ES256"
    assert claims["iss"] == meta["issuer"] and claims["aud"] == rp.client_id
    assert claims["nonce"] == nonce
    assert claims["acr"] == "level-1" and claims["amr"] == ["pwd"]
    assert len(claims["sub"]) == 43 and an.id_number not in claims["sub"]

    info = rp_session.get(meta["userinfo_endpoint"], timeout=10).json()
    assert info["sub"] == claims["sub"]
    assert info["name"] == "Nguyễn Văn An" and info["family_name"] == "Nguyễn" and info["given_name"] == "An"
    assert info["birthdate"] == "1990-05-12" and info["gender"] == "male"
    assert info["id_number"] == an.id_number
    assert "12 Hàng Bạc" in info["address"]["formatted"]
    assert "phone_number" not in info  # not asked for
    record = AccessRecord.objects.filter(person_id_number=an.id_number, channel="oidc").latest("at")
    assert record.purpose == "Đăng nhập dịch vụ Ngân hàng Thử nghiệm"

    old_refresh = token["refresh_token"]
    new = rp_session.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    assert new["refresh_token"] != old_refresh
    assert rp_session.get(meta["userinfo_endpoint"], timeout=10).status_code == 200
    # replaying the spent refresh token revokes the whole family, including the new tokens
    replay = requests.post(meta["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": old_refresh},
                           auth=(rp.client_id, secret), timeout=10)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert rp_session.get(meta["userinfo_endpoint"], timeout=10).status_code == 401


# --- consent memory and revocation ------------------------------------------------------------
def test_consent_is_remembered_then_revocation_asks_again_and_kills_refresh_tokens(client, an, rp):
    browser_login(client, an)
    first = client.get("/oidc/authorize", authorize_params(rp[0].client_id))
    assert first.status_code == 200 and b"decision" in first.content
    code = get_code(client, rp[0])
    tokens = exchange(client, rp, code).json()
    second = client.get("/oidc/authorize", authorize_params(rp[0].client_id, nonce="other"))
    assert second.status_code == 302 and "code=" in second["Location"], "remembered consent skips the screen"
    consent = selectors.consents_for(an).get()
    assert consent.scopes == ["openid", "profile"]

    services.revoke_consent(account=an, consent_id=consent.pk)
    refreshed = client.post("/oidc/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                            "client_id": rp[0].client_id, "client_secret": rp[1]})
    assert refreshed.status_code == 400
    assert client.get("/oidc/authorize", authorize_params(rp[0].client_id, nonce="x")).status_code == 200


def test_wider_scope_asks_again(client, an, rp):
    browser_login(client, an)
    get_code(client, rp[0])
    wider = client.get("/oidc/authorize", authorize_params(rp[0].client_id, scope="openid profile phone", nonce="b"))
    assert wider.status_code == 200


def test_deny_returns_access_denied_with_state(client, an, rp):
    browser_login(client, an)
    page = client.get("/oidc/authorize", authorize_params(rp[0].client_id))
    denied = client.post(f"/oidc/authorize?{page.wsgi_request.META['QUERY_STRING']}", {"decision": "deny"})
    assert query_of(denied) == {"error": "access_denied", "error_description": "The citizen declined.",
                                "state": "st-123"}
    assert not Consent.objects.exists()


# --- login, prompt, max_age, step-up ------------------------------------------------------------
def test_anonymous_is_sent_to_the_citizen_login(client, rp):
    response = client.get("/oidc/authorize", authorize_params(rp[0].client_id))
    assert response.status_code == 302 and response["Location"].startswith("/tai-khoan/dang-nhap/")


def test_prompt_none_without_session_is_login_required(client, rp):
    response = client.get("/oidc/authorize", authorize_params(rp[0].client_id, prompt="none"))
    assert query_of(response)["error"] == "login_required"


def test_prompt_login_forces_a_new_login_once(client, an, rp):
    browser_login(client, an)
    response = client.get("/oidc/authorize", authorize_params(rp[0].client_id, prompt="login"))
    location = response["Location"]
    assert location.startswith("/tai-khoan/dang-nhap/") and "prompt=login" in location
    next_url = parse_qs(urlsplit(location).query)["next"][0]
    time.sleep(1)
    browser_login(client, an)  # the citizen logs in again
    assert client.get(next_url).status_code == 200  # consent screen, no loop


def test_max_age_exceeded_forces_login(client, an, rp):
    browser_login(client, an)
    session = client.session
    session["popid_auth_time"] = int(time.time()) - 3600
    session.save()
    response = client.get("/oidc/authorize", authorize_params(rp[0].client_id, max_age="60"))
    assert response["Location"].startswith("/tai-khoan/dang-nhap/")


def test_level2_request_from_level1_account_is_unmet(client, an, rp):
    browser_login(client, an)
    response = client.get("/oidc/authorize", authorize_params(rp[0].client_id, acr_values="level-2"))
    assert query_of(response)["error"] == "unmet_authentication_requirements"
    assert query_of(response)["state"] == "st-123"


def test_level2_account_in_level1_session_is_stepped_up(client, family, rp):
    binh = make_account(family["binh"], level=2)
    browser_login(client, binh, amr=["pwd"])
    response = client.get("/oidc/authorize", authorize_params(rp[0].client_id, acr_values="level-2"))
    assert response["Location"].startswith("/tai-khoan/xac-thuc-nang-cao/") and "acr=level-2" in response["Location"]
    browser_login(client, binh, amr=["pwd", "passcode"])
    code = get_code(client, rp[0], acr_values="level-2")
    token = exchange(client, rp, code).json()
    assert jwt.decode(token["id_token"], KeySet.import_key_set(client.get("/oidc/jwks").json())).claims["acr"] == \
        "level-2"


# --- subjects ---------------------------------------------------------------------------------
def _sub(client, rp_secret) -> str:
    token = exchange(client, rp_secret, get_code(client, rp_secret[0])).json()
    return jwt.decode(token["id_token"], KeySet.import_key_set(client.get("/oidc/jwks").json())).claims["sub"]


def test_pairwise_subjects_differ_between_sectors_and_match_within_one(client, an, rp):
    browser_login(client, an)
    other = services.register_client(name="Bệnh viện", redirect_uris=["https://benhvien.example/cb"],
                                     token_endpoint_auth_method="client_secret_post")
    same_sector = services.register_client(name="Cổng 2", redirect_uris=["https://portal2.example/cb"],
                                           sector_identifier="dichvucong.example",
                                           token_endpoint_auth_method="client_secret_post")
    first = _sub(client, rp)
    assert first == _sub(client, rp), "stable"
    other_sub = exchange(client, other, get_code_for(client, other[0], "https://benhvien.example/cb"),
                         redirect_uri="https://benhvien.example/cb").json()
    keyset = KeySet.import_key_set(client.get("/oidc/jwks").json())
    assert jwt.decode(other_sub["id_token"], keyset).claims["sub"] != first
    same = exchange(client, same_sector, get_code_for(client, same_sector[0], "https://portal2.example/cb"),
                    redirect_uri="https://portal2.example/cb").json()
    assert jwt.decode(same["id_token"], keyset).claims["sub"] == first


def get_code_for(client, rp, redirect_uri: str) -> str:
    params = authorize_params(rp.client_id, redirect_uri=redirect_uri)
    page = client.get("/oidc/authorize", params)
    response = client.post(f"/oidc/authorize?{page.wsgi_request.META['QUERY_STRING']}", {"decision": "allow"})
    return query_of(response)["code"]


def test_rs256_client_gets_rs256_id_token(client, an, db):
    rs = services.register_client(name="RS", redirect_uris=[RP_CALLBACK], id_token_signed_response_alg="RS256",
                                  token_endpoint_auth_method="client_secret_post")
    browser_login(client, an)
    token = exchange(client, rs, get_code(client, rs[0])).json()
    decoded = jwt.decode(token["id_token"], KeySet.import_key_set(client.get("/oidc/jwks").json()))
    assert decoded.header["alg"] == "RS256"


def test_guardian_acting_for_ward_gets_ward_sub_and_act_claim(client, family, rp):
    an2 = make_account(family["an"], level=2)
    khoi = make_account(family["khoi"])
    Guardianship.objects.create(guardian=an2, ward=khoi, kind="parent", valid_from=family["khoi"].birth_date)
    browser_login(client, khoi)
    ward_sub = _sub(client, rp)
    browser_login(client, an2)
    guardian_sub = _sub(client, rp)
    client.cookies.clear()
    browser_login(client, an2, acting_for=khoi)
    token = exchange(client, rp, get_code(client, rp[0], nonce="w")).json()
    claims = jwt.decode(token["id_token"], KeySet.import_key_set(client.get("/oidc/jwks").json())).claims
    assert claims["sub"] == ward_sub and claims["act"] == {"sub": guardian_sub}
    info = client.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {token['access_token']}").json()
    assert info["name"] == "Nguyễn Minh Khôi" and info["act"] == {"sub": guardian_sub}


# --- PAR --------------------------------------------------------------------------------------
def test_pushed_authorization_request_round_trip_and_single_use(client, an, rp):
    params = authorize_params(rp[0].client_id)
    pushed = client.post("/oidc/par", {**params, "client_secret": rp[1]})
    assert pushed.status_code == 201, pushed.content
    body = pushed.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:") and 60 <= body["expires_in"] <= 90
    browser_login(client, an)
    query = {"client_id": rp[0].client_id, "request_uri": body["request_uri"]}
    page = client.get("/oidc/authorize", query)
    assert page.status_code == 200
    done = client.post(f"/oidc/authorize?{page.wsgi_request.META['QUERY_STRING']}", {"decision": "allow"})
    assert query_of(done)["state"] == "st-123" and "code" in query_of(done)
    other_browser = client.__class__()
    browser_login(other_browser, an)
    reused = other_browser.get("/oidc/authorize", query)
    assert reused.status_code == 400 and b"invalid_request_uri" in reused.content


def test_client_requiring_par_refuses_front_channel_request(client, an, db):
    strict = services.register_client(name="Strict", redirect_uris=[RP_CALLBACK],
                                      token_endpoint_auth_method="client_secret_post",
                                      require_pushed_authorization_requests=True)
    browser_login(client, an)
    response = client.get("/oidc/authorize", authorize_params(strict[0].client_id))
    assert query_of(response)["error"] == "invalid_request"


# --- logout -----------------------------------------------------------------------------------
def test_rp_initiated_logout_redirects_only_to_registered_uri_with_state(client, an, rp):
    browser_login(client, an)
    token = exchange(client, rp, get_code(client, rp[0])).json()
    response = client.get("/oidc/logout", {"id_token_hint": token["id_token"], "state": "bye-1",
                                           "post_logout_redirect_uri": "https://dichvucong.example/bye"})
    assert response.status_code == 302
    assert response["Location"] == "https://dichvucong.example/bye?state=bye-1"
    assert settings.SESSION_COOKIE_NAME not in client.cookies or not client.session.get("popid_acr")


def test_token_rows_store_only_digests(client, an, rp):
    browser_login(client, an)
    token = exchange(client, rp, get_code(client, rp[0])).json()
    row = Token.objects.get()
    assert token["access_token"] not in (row.access_token_hash, row.refresh_token_hash)
