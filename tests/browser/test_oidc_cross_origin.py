"""Issue #10 finding 1: "log in with PopID" from a relying party on ANOTHER origin, in Chromium.

PopID runs on the live server (http://localhost:<port>); the relying party is a small HTTP server
of its own on http://127.0.0.1:<other port> in this process (another origin and another site for
the browser). It is a real OIDC client: Authlib's OAuth2Session with PKCE S256, state and nonce,
client_secret_basic at the token endpoint, and ID-token validation against the provider's JWKS
(signature, iss, aud, exp, nonce, at_hash) before it shows anyone as logged in.

Chromium applies a page's CSP ``form-action`` to every redirect that follows a form submission, so
each PopID form whose POST ends in a redirect to the relying party is exercised:
consent form → client, step-up form → authorize → client, login form → authorize → client and
OTP form → authorize → client; then RP-initiated logout back to the relying party's origin.
"""

from __future__ import annotations

import html
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core.grants.util import create_half_hash
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Mat-khau-cong-dan-1"
PASSCODE = "246810"
PHONE = "0912345678"
CSP_REFUSALS = ("Content Security Policy", "Refused to send form data", "form-action")


@dataclass
class RelyingPartyApp:
    """The relying party's configuration and its server-side sessions (cookie ``rp_sid``)."""

    provider: str
    client_id: str = ""
    client_secret: str = ""
    origin: str = ""
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    validated: list[dict[str, Any]] = field(default_factory=list)  # every ID token it accepted

    def metadata(self) -> dict[str, Any]:
        return requests.get(f"{self.provider}/.well-known/openid-configuration", timeout=10).json()

    def oauth(self, **kwargs: Any) -> OAuth2Session:
        return OAuth2Session(self.client_id, self.client_secret, scope="openid profile",
                             redirect_uri=f"{self.origin}/cb", code_challenge_method="S256",
                             token_endpoint_auth_method="client_secret_basic", **kwargs)

    def validate_id_token(self, id_token: str, *, nonce: str, access_token: str) -> dict[str, Any]:
        meta = self.metadata()
        key_set = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
        token = jwt.decode(id_token, key_set, algorithms=meta["id_token_signing_alg_values_supported"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": meta["issuer"]}, aud={"essential": True, "value": self.client_id},
            exp={"essential": True}, iat={"essential": True}, sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
        expected_hash = create_half_hash(access_token, token.header["alg"]).decode()
        assert token.claims["at_hash"] == expected_hash, "at_hash does not match the access token"
        return token.claims


def make_handler(app: RelyingPartyApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            pass

        def _session(self) -> tuple[str, dict[str, Any]]:
            cookies = dict(part.strip().split("=", 1) for part in self.headers.get("Cookie", "").split(";")
                           if "=" in part)
            sid = cookies.get("rp_sid", "")
            if sid not in app.sessions:
                sid = secrets.token_urlsafe(16)
                app.sessions[sid] = {}
            return sid, app.sessions[sid]

        def _send(self, status: int, body: str = "", *, sid: str = "", location: str = "") -> None:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            if sid:
                self.send_header("Set-Cookie", f"rp_sid={sid}; Path=/; HttpOnly; SameSite=Lax")
            data = f"<!doctype html><html lang='vi'><body>{body}</body></html>".encode()
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            sid, session = self._session()
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            try:
                if url.path == "/login":
                    self._login(sid, session, query)
                elif url.path == "/cb":
                    self._callback(sid, session, query)
                elif url.path == "/logout":
                    self._logout(sid, session)
                elif url.path == "/bye":
                    ok = query.get("state") == session.pop("logout_state", None)
                    session.pop("user", None)
                    self._send(200, f"<p id='bye'>{'logged-out' if ok else 'bad-state'}</p>", sid=sid)
                else:
                    self._send(404, "<p>not found</p>", sid=sid)
            except Exception as exc:
                self._send(500, f"<p id='rp-error'>{html.escape(repr(exc))}</p>", sid=sid)

        def _login(self, sid: str, session: dict[str, Any], query: dict[str, str]) -> None:
            meta = app.metadata()
            verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
            extra = {k: query[k] for k in ("acr_values", "prompt") if k in query}
            uri, state = app.oauth().create_authorization_url(
                meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra)
            session["pending"] = {"state": state, "nonce": nonce, "verifier": verifier}
            self._send(302, sid=sid, location=uri)

        def _callback(self, sid: str, session: dict[str, Any], query: dict[str, str]) -> None:
            pending = session.pop("pending", None)
            if "error" in query:
                self._send(200, f"<p id='rp-error'>{html.escape(query['error'])}</p>", sid=sid)
                return
            assert pending and query.get("state") == pending["state"], "state mismatch"
            meta = app.metadata()
            oauth = app.oauth(state=pending["state"])
            token = oauth.fetch_token(meta["token_endpoint"], authorization_response=f"{app.origin}{self.path}",
                                      code_verifier=pending["verifier"])
            claims = app.validate_id_token(token["id_token"], nonce=pending["nonce"],
                                           access_token=token["access_token"])
            userinfo = oauth.get(meta["userinfo_endpoint"]).json()
            assert userinfo["sub"] == claims["sub"]
            app.validated.append(claims)
            session["user"] = {"id_token": token["id_token"], "claims": claims, "name": userinfo.get("name", "")}
            self._send(200, f"<p id='rp-user'>{html.escape(userinfo.get('name', ''))}</p>"
                            f"<p id='rp-acr'>{html.escape(claims['acr'])}</p>"
                            f"<p id='rp-sub'>{html.escape(claims['sub'])}</p>", sid=sid)

        def _logout(self, sid: str, session: dict[str, Any]) -> None:
            user = session.get("user")
            assert user, "nobody is logged in at the relying party"
            state = secrets.token_urlsafe(12)
            session["logout_state"] = state
            query = urlencode({"id_token_hint": user["id_token"], "post_logout_redirect_uri": f"{app.origin}/bye",
                               "client_id": app.client_id, "state": state})
            self._send(302, sid=sid, location=f"{app.metadata()['end_session_endpoint']}?{query}")

    return Handler


@pytest.fixture
def relying_party(live_server) -> Iterator[RelyingPartyApp]:
    """The relying party's own server, on 127.0.0.1 and another port than PopID's live server."""
    from popid.identity.oidc import services

    app = RelyingPartyApp(provider=live_server.url)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(app))
    app.origin = f"http://127.0.0.1:{server.server_address[1]}"
    assert urlsplit(app.origin).netloc != urlsplit(live_server.url).netloc
    client, secret = services.register_client(
        name="Ngân hàng Khác Nguồn", redirect_uris=[f"{app.origin}/cb"],
        post_logout_redirect_uris=[f"{app.origin}/bye"], token_endpoint_auth_method="client_secret_basic")
    app.client_id, app.client_secret = client.client_id, secret or ""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    server.server_close()


@pytest.fixture
def citizen(family, settings, tmp_path):
    """Nguyễn Văn An holds a level-2 account (activated at the commune police)."""
    from popid.identity.models import CitizenAccount

    settings.DATA_DIR = tmp_path  # SMS outbox and signing keys of this test only
    an = family["an"]
    user = get_user_model().objects.create_user(username=an.id_number, password=PASSWORD)
    return CitizenAccount.objects.create(
        user=user, person=an, level=2, phone=PHONE, phone_verified_at=timezone.now(),
        passcode_hash=make_password(PASSCODE), level2_activated_at=timezone.now(), level2_officer="cb.hoankiem",
        level2_unit="Công an phường Hoàn Kiếm", level2_card_number=an.id_number)


def latest_otp(phone: str) -> str:
    from popid.core.messaging import read_outbox

    messages = read_outbox(to=phone)
    assert messages, "no SMS was sent"
    return re.search(r"\b(\d{6})\b", messages[-1]["text"]).group(1)


def watch(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def csp_refusals(errors: list[str]) -> list[str]:
    return [e for e in errors if any(marker in e for marker in CSP_REFUSALS)]


def password_login(page, id_number: str) -> None:
    page.fill("input[name=id_number]", id_number)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action*='dang-nhap'] button[type=submit]")


def arrived_at_rp(page, rp: RelyingPartyApp, errors: list[str]) -> None:
    """The browser is back at the relying party's own origin with a validated login."""
    try:
        page.wait_for_selector("#rp-user, #rp-error", timeout=15_000)
    except Exception as exc:  # Playwright's timeout: say where the browser got stuck and why
        raise AssertionError(f"never reached the relying party; stuck at {page.url}; "
                             f"CSP refusals: {csp_refusals(errors)}") from exc
    assert page.url.startswith(f"{rp.origin}/cb?"), page.url
    assert page.locator("#rp-error").count() == 0, page.inner_text("#rp-error")


def test_relying_party_on_another_origin_logs_in_steps_up_and_logs_out(
        live_server, transactional_db, citizen, relying_party, browser):
    rp = relying_party
    an = citizen.person
    context = browser.new_context()
    page = context.new_page()
    errors = watch(page)

    # 1. First login, level 2 asked, consent forced: password → OTP (new device) → step-up with the
    #    passcode → consent screen → "Đồng ý" → the code goes to the relying party's origin.
    page.goto(f"{rp.origin}/login?{urlencode({'acr_values': 'level-2', 'prompt': 'consent'})}")
    assert page.url.startswith(f"{live_server.url}/"), page.url  # at PopID, another origin
    password_login(page, an.id_number)
    page.fill("input[name=code]", latest_otp(PHONE))
    page.click("form[action*='xac-thuc-otp'] button.btn-primary")
    page.fill("input[name=code]", PASSCODE)  # step-up to level 2
    page.click("form[action*='xac-thuc-nang-cao'] button.btn-primary")
    assert "Ngân hàng Khác Nguồn" in page.content()  # the consent screen names the service
    page.click("button[name=decision][value=allow]")
    arrived_at_rp(page, rp, errors)
    assert page.inner_text("#rp-acr") == "level-2"
    assert page.inner_text("#rp-user") == "Nguyễn Văn An"
    first = rp.validated[-1]
    assert first["acr"] == "level-2" and "otp" in first["amr"] and first["aud"] == rp.client_id
    assert first["iss"] == live_server.url

    # 2. RP-initiated logout: PopID ends its session and returns to the relying party's origin.
    page.goto(f"{rp.origin}/logout")
    page.wait_for_selector("#bye")
    assert page.url.startswith(f"{rp.origin}/bye?state="), page.url
    assert page.inner_text("#bye") == "logged-out"
    page.goto(f"{live_server.url}/tai-khoan/")
    assert "/dang-nhap" in page.url, page.url  # the PopID session is gone

    # 3. Login form → authorize → client: known device, consent remembered, level 1.
    page.goto(f"{rp.origin}/login")
    password_login(page, an.id_number)
    arrived_at_rp(page, rp, errors)
    assert page.inner_text("#rp-acr") == "level-1"
    assert rp.validated[-1]["sub"] == first["sub"]  # the same pairwise subject

    # 4. Step-up form → authorize → client: the level-1 session is raised with the passcode.
    page.goto(f"{rp.origin}/login?acr_values=level-2")
    page.fill("input[name=code]", PASSCODE)
    page.click("form[action*='xac-thuc-nang-cao'] button.btn-primary")
    arrived_at_rp(page, rp, errors)
    assert page.inner_text("#rp-acr") == "level-2"

    # 5. OTP form → authorize → client: another browser (new device), consent remembered.
    other = browser.new_context()
    page2 = other.new_page()
    errors2 = watch(page2)
    page2.goto(f"{rp.origin}/login")
    password_login(page2, an.id_number)
    page2.fill("input[name=code]", latest_otp(PHONE))
    page2.click("form[action*='xac-thuc-otp'] button.btn-primary")
    arrived_at_rp(page2, rp, errors2)
    assert page2.inner_text("#rp-acr") == "level-1"

    assert len(rp.validated) == 4
    assert not csp_refusals(errors + errors2), errors + errors2
    other.close()
    context.close()
