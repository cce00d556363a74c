"""Bad input and attacks against the provider: each refused with the standard OAuth/OIDC error,
logged (logger popid.oidc), and changing nothing it should not."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from django.core.management import call_command
from django.test import Client
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from popid.identity.oidc import services
from popid.identity.oidc.models import AuthorizationCode, Consent, PushedAuthorizationRequest, RelyingParty, Token
from tests.identity.test_oidc_flow import (
    RP_CALLBACK,
    VERIFIER,
    authorize_params,
    browser_login,
    exchange,
    get_code,
    make_account,
    query_of,
)


@pytest.fixture
def an(family):
    return make_account(family["an"])


@pytest.fixture
def rp(db):
    return services.register_client(name="Cổng dịch vụ công", redirect_uris=[RP_CALLBACK],
                                    token_endpoint_auth_method="client_secret_post",
                                    post_logout_redirect_uris=["https://dichvucong.example/bye"])


@pytest.fixture
def rp_key():
    return ECKey.generate_key("P-256", parameters={"kid": "rp-1"}, private=True)


@pytest.fixture
def jwt_rp(db, rp_key):
    client, secret = services.register_client(
        name="Ngân hàng", redirect_uris=[RP_CALLBACK], token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [rp_key.as_dict(private=False)]})
    assert secret is None
    return client


def assertion(client_id: str, key, *, alg: str = "ES256", aud: str = "http://testserver/oidc/token",
              exp_in: int = 60, jti: str | None = None, **extra) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + exp_in,
              "jti": jti or uuid.uuid4().hex, **extra}
    return jwt.encode({"alg": alg, "kid": "rp-1"}, claims, key, algorithms=[alg])


def token_with_assertion(client, jwt_rp, code: str, client_assertion: str):
    return client.post("/oidc/token", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": RP_CALLBACK, "code_verifier": VERIFIER,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion})


# --- front channel --------------------------------------------------------------------------
def test_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(client, an, rp, caplog):
    browser_login(client, an)
    for uri in ("https://evil.example/cb", RP_CALLBACK + "/extra", RP_CALLBACK + "?x=1", "https://DICHVUCONG.example/callback"):
        with caplog.at_level(logging.WARNING, logger="popid.oidc"):
            response = client.get("/oidc/authorize", authorize_params(rp[0].client_id, redirect_uri=uri))
        assert response.status_code == 400 and "Location" not in response
        assert b"invalid_request" in response.content
    assert "oidc refused" in caplog.text
    assert not AuthorizationCode.objects.exists()


def test_unknown_client_gets_an_error_page(client, an):
    browser_login(client, an)
    response = client.get("/oidc/authorize", authorize_params("no-such-client"))
    assert response.status_code == 400 and "Location" not in response and b"invalid_client" in response.content


def test_disabled_client_is_unknown(client, an, rp):
    services.disable_client(client_id=rp[0].client_id, by="test")
    browser_login(client, an)
    assert client.get("/oidc/authorize", authorize_params(rp[0].client_id)).status_code == 400


def test_client_disabled_after_use_is_refused_at_once_and_within_the_cache_lifetime_elsewhere(
        client, an, rp, settings):
    """The active client is kept per process (identity.oidc.selectors.active_client): disabling it
    through the command forgets it at once; a change this process was not told about (SQL, another
    worker) is seen once the entry is older than POPID_HOT_CACHE_SECONDS."""
    settings.POPID_HOT_CACHE_SECONDS = 0.3
    browser_login(client, an)
    assert client.get("/oidc/authorize", authorize_params(rp[0].client_id)).status_code in {200, 302}  # cached
    services.disable_client(client_id=rp[0].client_id, by="test")
    assert client.get("/oidc/authorize", authorize_params(rp[0].client_id)).status_code == 400

    RelyingParty.objects.filter(pk=rp[0].pk).update(is_active=True, disabled_at=None)
    assert client.get("/oidc/authorize", authorize_params(rp[0].client_id)).status_code in {200, 302}
    RelyingParty.objects.filter(pk=rp[0].pk).update(is_active=False)  # not told
    time.sleep(0.35)
    assert client.get("/oidc/authorize", authorize_params(rp[0].client_id)).status_code == 400


@pytest.mark.parametrize("change", [
    {"code_challenge": None, "code_challenge_method": None},
    {"code_challenge_method": "plain", "code_challenge": VERIFIER},
    {"code_challenge_method": None},
])
def test_pkce_s256_is_required_at_authorize(client, an, rp, change):
    browser_login(client, an)
    response = client.get("/oidc/authorize", authorize_params(rp[0].client_id, **change))
    assert response.status_code == 302
    assert query_of(response)["error"] == "invalid_request" and query_of(response)["state"] == "st-123"


def test_missing_scope_openid_is_invalid_scope(client, an, rp):
    browser_login(client, an)
    response = client.get("/oidc/authorize", authorize_params(rp[0].client_id, scope="profile"))
    assert query_of(response)["error"] == "invalid_scope"


def test_consent_form_without_csrf_token_is_refused(an, rp):
    browser = Client(enforce_csrf_checks=True)
    browser_login(browser, an)
    page = browser.get("/oidc/authorize", authorize_params(rp[0].client_id))
    assert page.status_code == 200
    forged = browser.post(f"/oidc/authorize?{page.wsgi_request.META['QUERY_STRING']}", {"decision": "allow"})
    assert forged.status_code == 403
    assert not Consent.objects.exists() and not AuthorizationCode.objects.exists()


def test_nonce_replay_is_refused(client, an, rp):
    browser_login(client, an)
    get_code(client, rp[0], nonce="same-nonce")
    again = client.get("/oidc/authorize", authorize_params(rp[0].client_id, nonce="same-nonce"))
    assert query_of(again)["error"] == "invalid_request"


# --- token endpoint ---------------------------------------------------------------------------
def test_wrong_or_missing_pkce_verifier_is_refused(client, an, rp):
    browser_login(client, an)
    wrong = exchange(client, rp, get_code(client, rp[0]), verifier="w" * 64)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = exchange(client, rp, get_code(client, rp[0]), verifier=None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert not Token.objects.exists()


def test_reused_code_is_refused_and_revokes_tokens_from_first_use(client, an, rp, caplog):
    browser_login(client, an)
    code = get_code(client, rp[0])
    first = exchange(client, rp, code)
    assert first.status_code == 200
    with caplog.at_level(logging.WARNING, logger="popid.oidc"):
        second = exchange(client, rp, code)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert "authorization code reused" in caplog.text
    assert Token.objects.get().revoked_at is not None
    userinfo = client.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {first.json()['access_token']}")
    assert userinfo.status_code == 401


def test_wrong_client_secret_is_invalid_client(client, an, rp):
    browser_login(client, an)
    response = exchange(client, (rp[0], "not-the-secret"), get_code(client, rp[0]))
    assert response.status_code in {400, 401} and response.json()["error"] == "invalid_client"


def test_private_key_jwt_happy_path(client, an, jwt_rp, rp_key):
    browser_login(client, an)
    response = token_with_assertion(client, jwt_rp, get_code(client, jwt_rp), assertion(jwt_rp.client_id, rp_key))
    assert response.status_code == 200, response.content
    assert "id_token" in response.json()


def _alg_none(client_id: str) -> str:
    import base64
    import json

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": "http://testserver/oidc/token", "exp": now + 60, "jti": "x"}
    return f"{b64({'alg': 'none'})}.{b64(claims)}."


def test_alg_none_and_hs256_with_public_key_assertions_are_refused(client, an, jwt_rp, rp_key):
    browser_login(client, an)
    none = token_with_assertion(client, jwt_rp, get_code(client, jwt_rp), _alg_none(jwt_rp.client_id))
    assert none.status_code in {400, 401} and none.json()["error"] == "invalid_client"
    # HS256 keyed with the client's *public* key (the classic algorithm-confusion attack)
    # (joserfc refuses to build such a key, so the token is assembled by hand)
    import base64
    import hashlib
    import hmac
    import json

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    now = int(time.time())
    signing_input = ".".join([b64(json.dumps({"alg": "HS256", "kid": "rp-1"}).encode()), b64(json.dumps({
        "iss": jwt_rp.client_id, "sub": jwt_rp.client_id, "aud": "http://testserver/oidc/token",
        "exp": now + 60, "jti": "h"}).encode())])
    signature = hmac.new(rp_key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(signature)}"
    hs = token_with_assertion(client, jwt_rp, get_code(client, jwt_rp), forged)
    assert hs.status_code in {400, 401} and hs.json()["error"] == "invalid_client"
    assert not Token.objects.exists()


@pytest.mark.parametrize("kwargs", [
    {"exp_in": -120},  # expired (beyond leeway)
    {"exp_in": 3600},  # too long-lived
    {"aud": "https://other-op.example/token"},  # wrong audience
])
def test_expired_long_lived_or_wrong_audience_assertions_are_refused(client, an, jwt_rp, rp_key, kwargs):
    browser_login(client, an)
    response = token_with_assertion(client, jwt_rp, get_code(client, jwt_rp), assertion(jwt_rp.client_id, rp_key,
                                                                                        **kwargs))
    assert response.status_code in {400, 401} and response.json()["error"] == "invalid_client"


def test_replayed_assertion_is_refused(client, an, jwt_rp, rp_key):
    browser_login(client, an)
    once = assertion(jwt_rp.client_id, rp_key, jti="only-once")
    assert token_with_assertion(client, jwt_rp, get_code(client, jwt_rp), once).status_code == 200
    replay = token_with_assertion(client, jwt_rp, get_code(client, jwt_rp), once)
    assert replay.status_code in {400, 401} and replay.json()["error"] == "invalid_client"


def test_assertion_signed_by_another_key_is_refused(client, an, jwt_rp):
    browser_login(client, an)
    stranger = ECKey.generate_key("P-256", parameters={"kid": "rp-1"}, private=True)
    response = token_with_assertion(client, jwt_rp, get_code(client, jwt_rp), assertion(jwt_rp.client_id, stranger))
    assert response.status_code in {400, 401} and response.json()["error"] == "invalid_client"


def test_userinfo_without_or_with_bogus_token_is_401(client, db):
    assert client.get("/oidc/userinfo").status_code == 401
    response = client.get("/oidc/userinfo", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]


# --- PAR ----------------------------------------------------------------------------------------
def test_par_needs_client_authentication(client, rp):
    response = client.post("/oidc/par", authorize_params(rp[0].client_id))
    assert response.status_code in {400, 401} and response.json()["error"] == "invalid_client"
    assert not PushedAuthorizationRequest.objects.exists()


def test_par_validates_like_authorize(client, rp):
    response = client.post("/oidc/par", {**authorize_params(rp[0].client_id, redirect_uri="https://evil.example/"),
                                         "client_secret": rp[1]})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_expired_par_request_uri_is_refused(client, an, rp):
    pushed = client.post("/oidc/par", {**authorize_params(rp[0].client_id), "client_secret": rp[1]}).json()
    PushedAuthorizationRequest.objects.update(expires_at=PushedAuthorizationRequest.objects.get().created_at)
    browser_login(client, an)
    response = client.get("/oidc/authorize", {"client_id": rp[0].client_id, "request_uri": pushed["request_uri"]})
    assert response.status_code == 400 and "Location" not in response and b"invalid_request_uri" in response.content


def test_par_request_uri_of_another_client_is_refused(client, an, rp, jwt_rp):
    pushed = client.post("/oidc/par", {**authorize_params(rp[0].client_id), "client_secret": rp[1]}).json()
    browser_login(client, an)
    response = client.get("/oidc/authorize", {"client_id": jwt_rp.client_id, "request_uri": pushed["request_uri"]})
    assert response.status_code == 400


# --- logout -------------------------------------------------------------------------------------
def test_logout_never_redirects_to_an_unregistered_uri(client, an, rp):
    browser_login(client, an)
    token = exchange(client, rp, get_code(client, rp[0])).json()
    response = client.get("/oidc/logout", {"id_token_hint": token["id_token"],
                                           "post_logout_redirect_uri": "https://evil.example/"})
    assert response.status_code == 200 and "Location" not in response


def test_logout_without_hint_asks_for_confirmation_and_does_not_redirect(client, an, rp):
    browser_login(client, an)
    response = client.get("/oidc/logout", {"client_id": rp[0].client_id,
                                           "post_logout_redirect_uri": "https://dichvucong.example/bye"})
    assert response.status_code == 200 and "Location" not in response and b"csrfmiddlewaretoken" in response.content


def test_forged_id_token_hint_is_refused(client, an, rp):
    forged = jwt.encode({"alg": "ES256"}, {"iss": "http://testserver", "aud": rp[0].client_id, "sub": "x"},
                        ECKey.generate_key("P-256", private=True))
    response = client.get("/oidc/logout", {"id_token_hint": forged,
                                           "post_logout_redirect_uri": "https://dichvucong.example/bye"})
    assert response.status_code == 400 and "Location" not in response


# --- registration -------------------------------------------------------------------------------
def test_registration_refuses_bad_input(db):
    from popid.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.register_client(name="X", redirect_uris=["http://evil.example/cb"],
                                 token_endpoint_auth_method="client_secret_basic")
    with pytest.raises(ValidationFailed):
        services.register_client(name="X", redirect_uris=[RP_CALLBACK], token_endpoint_auth_method="private_key_jwt",
                                 jwks={"keys": [OctKey.generate_key(256).as_dict()]})
    with pytest.raises(ValidationFailed):
        services.register_client(name="X", redirect_uris=["https://a.example/cb", "https://b.example/cb"],
                                 token_endpoint_auth_method="client_secret_basic")
    assert not RelyingParty.objects.exists()


def test_cli_register_client_prints_json(db, capsys, tmp_path, rp_key):
    import json

    call_command("oidc", "register-client", "--name", "Cổng A", "--redirect-uri", RP_CALLBACK, "--secret")
    out = json.loads(capsys.readouterr().out)
    assert out["client_id"] and out["client_secret"]
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [rp_key.as_dict(private=False)]}))
    call_command("oidc", "register-client", "--name", "Cổng B", "--redirect-uri", RP_CALLBACK,
                 "--jwks-file", str(jwks_file), "--post-logout-redirect-uri", "https://dichvucong.example/bye")
    out = json.loads(capsys.readouterr().out)
    assert "client_secret" not in out and out["token_endpoint_auth_method"] == "private_key_jwt"


# --- console pages ------------------------------------------------------------------------------
def test_relying_party_pages_are_for_admins_only(client, officer_hoan_kiem, db):
    from tests.conftest import make_staff

    client.force_login(officer_hoan_kiem)
    assert client.get("/oidc/clients/").status_code == 403
    denied = client.post("/oidc/clients/new/", {"name": "X", "redirect_uris": RP_CALLBACK,
                                                "token_endpoint_auth_method": "client_secret_basic",
                                                "id_token_signed_response_alg": "ES256"})
    assert denied.status_code == 403 and not RelyingParty.objects.exists()
    admin = make_staff("qt.hethong", role="admin", level="nation", unit_name="Bộ Công an")
    client.force_login(admin)
    created = client.post("/oidc/clients/new/", {"name": "Cổng X", "redirect_uris": RP_CALLBACK,
                                                 "token_endpoint_auth_method": "client_secret_basic",
                                                 "id_token_signed_response_alg": "ES256"})
    assert created.status_code == 200 and b"client-secret" in created.content
    rp = RelyingParty.objects.get()
    assert rp.name in client.get("/oidc/clients/").content.decode()
    client.post(f"/oidc/clients/{rp.client_id}/disable/")
    assert not RelyingParty.objects.get().is_active
