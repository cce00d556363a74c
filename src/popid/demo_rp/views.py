"""Demo relying party: "Đăng nhập bằng PopID" with the authorization code flow, PKCE S256,
private_key_jwt, ID-token verification against the provider's JWKS, userinfo and RP-initiated
logout — all through Authlib's OAuth client and plain HTTP to the provider, as an outside
service would do it. Its own state lives under one key of the browser session."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from popid.demo_rp.registration import SCOPES, DemoClient, client_for

SESSION_KEY = "demo_rp"
HTTP_TIMEOUT = 10


def _enabled() -> None:
    if not getattr(settings, "POPID_DEMO_RP", True):
        raise Http404


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _metadata(origin: str) -> dict[str, Any]:
    response = requests.get(f"{origin}/.well-known/openid-configuration", timeout=HTTP_TIMEOUT)
    response.raise_for_status()
    metadata: dict[str, Any] = response.json()
    return metadata


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]  # Authlib ships no type hints
    """Authlib signs client assertions for an hour by default; PopID accepts at most 300 s,
    so sign each one for 60 s (a fresh jti every time)."""

    def sign(self, auth: Any, token_endpoint: str) -> bytes:
        assertion: bytes = private_key_jwt_sign(
            auth.client_secret, client_id=auth.client_id, token_endpoint=token_endpoint,
            claims=self.claims, header=self.headers, alg=self.alg, expires_in=60)
        return assertion


def _session(client: DemoClient, metadata: dict[str, Any], **kwargs: Any) -> OAuth2Session:
    session = OAuth2Session(client.client_id, client.key, token_endpoint_auth_method="private_key_jwt",
                            redirect_uri=client.redirect_uri, scope=SCOPES, code_challenge_method="S256",
                            **kwargs)
    session.register_client_auth_method(ShortLivedPrivateKeyJWT(metadata["token_endpoint"], alg="ES256"))
    return session


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, f"demo_rp/{template}", context, status=status)


def home(request: HttpRequest) -> HttpResponse:
    _enabled()
    state = request.session.get(SESSION_KEY, {})
    return _render(request, "home.html", {"user": state.get("user"), "error": state.pop("error", None)})


@require_POST
def login(request: HttpRequest) -> HttpResponse:
    """Start the flow; ``level=2`` asks for acr level-2 (the provider steps the citizen up)."""
    _enabled()
    origin = _origin(request)
    client = client_for(origin)
    metadata = _metadata(origin)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    extra = {"acr_values": "level-2"} if request.POST.get("level") == "2" else {}
    url, state = _session(client, metadata).create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra)
    request.session[SESSION_KEY] = {"state": state, "verifier": verifier, "nonce": nonce,
                                    "user": request.session.get(SESSION_KEY, {}).get("user")}
    return HttpResponseRedirect(url)


def callback(request: HttpRequest) -> HttpResponse:
    """Exchange the code, verify the ID token (signature, iss, aud, nonce, exp) and read userinfo."""
    _enabled()
    pending = request.session.get(SESSION_KEY) or {}
    if "state" not in pending or request.GET.get("state") != pending["state"]:
        return _fail(request, _("Tham số state không khớp: yêu cầu đăng nhập không do trang này khởi tạo"))
    if "error" in request.GET:
        return _fail(request, f"{request.GET['error']}: {request.GET.get('error_description', '')}")
    origin = _origin(request)
    client, metadata = client_for(origin), _metadata(origin)
    try:
        session = _session(client, metadata, state=pending["state"])
        token = session.fetch_token(metadata["token_endpoint"], authorization_response=request.build_absolute_uri(),
                                    code_verifier=pending["verifier"])
        claims = _verify_id_token(token["id_token"], client, metadata, nonce=pending["nonce"])
        userinfo = session.get(metadata["userinfo_endpoint"], timeout=HTTP_TIMEOUT).json()
    except (AuthlibBaseError, JoseError, requests.RequestException, KeyError, ValueError) as exc:
        return _fail(request, _("Không hoàn tất được đăng nhập: %(error)s") % {"error": exc})
    request.session[SESSION_KEY] = {"user": {"id_token": claims, "userinfo": userinfo,
                                             "id_token_raw": token["id_token"],
                                             "scope": token.get("scope", "")}}
    return HttpResponseRedirect("/demo-rp/")


def _verify_id_token(raw: str, client: DemoClient, metadata: dict[str, Any], *, nonce: str) -> dict[str, Any]:
    jwks = requests.get(metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json()
    token = jwt.decode(raw, KeySet.import_key_set(jwks), algorithms=["ES256", "RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]}, aud={"essential": True, "value": client.client_id},
        nonce={"essential": True, "value": nonce}, exp={"essential": True}, sub={"essential": True},
    ).validate(token.claims)
    if token.claims.get("iat", 0) > time.time() + 60:
        raise ValueError("id_token issued in the future")
    return dict(token.claims)


def _fail(request: HttpRequest, message: str) -> HttpResponse:
    request.session[SESSION_KEY] = {"user": None}
    return _render(request, "home.html", {"user": None, "error": message}, status=400)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """RP-initiated logout: forget the local login, then end the PopID session too."""
    _enabled()
    user = (request.session.get(SESSION_KEY) or {}).get("user") or {}
    request.session.pop(SESSION_KEY, None)
    if not user.get("id_token_raw"):
        return HttpResponseRedirect("/demo-rp/")
    origin = _origin(request)
    client, metadata = client_for(origin), _metadata(origin)
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return HttpResponseRedirect("/demo-rp/")
    query = urlencode({"id_token_hint": user["id_token_raw"], "client_id": client.client_id,
                       "post_logout_redirect_uri": client.post_logout_redirect_uri, "state": secrets.token_urlsafe(8)})
    return HttpResponseRedirect(f"{endpoint}?{query}")
