"""HTTP endpoints of the provider. Thin: parse, let Authlib check the protocol, decide login /
step-up / consent from the session (identity.auth contract), respond. Every refusal is logged
(logger ``popid.oidc``) and answered in the form the specs prescribe: an error page when the
client or redirect URI cannot be trusted, a redirect with ``error`` otherwise, JSON at the
back-channel endpoints."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, InteractionRequiredError, LoginRequiredError
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from popid.core import keys, net
from popid.core.middleware import allow_form_action
from popid.identity import auth
from popid.identity.oidc import par, selectors, services
from popid.identity.oidc.claims import CLAIMS_SUPPORTED, SCOPES, release_claims
from popid.identity.oidc.continuation import registered_redirect_origin
from popid.identity.oidc.models import digest
from popid.identity.oidc.provider import (
    ASSERTION_ALGS,
    AUTH_METHODS,
    Grantee,
    ParamsRequest,
    bind_issuer,
    server,
    subject_claims,
)

log = logging.getLogger("popid.oidc")
REAUTH_SALT = "popid.oidc.reauth"
REAUTH_MAX_AGE = 15 * 60

SCOPE_LABELS = {
    "openid": _("Mã định danh riêng của bạn cho dịch vụ này"),
    "profile": _("Họ tên, ngày sinh, giới tính và mức định danh"),
    "popid.id_number": _("Số định danh cá nhân"),
    "address": _("Địa chỉ thường trú"),
    "phone": _("Số điện thoại"),
    "email": _("Thư điện tử"),
}


class UnmetAuthenticationRequirements(OAuth2Error):  # type: ignore[misc]  # authlib has no type hints
    """OIDC Core errata / OpenID EAP: the requested acr cannot be reached by this account."""

    error = "unmet_authentication_requirements"


def citizen_base_template() -> str:
    # select_template returns Any in django-stubs (it depends on the engine); ours is Django's
    name: str = select_template(["web/citizen_base.html", "web/base.html"]).template.name
    return name


def _error_page(request: HttpRequest, error: OAuth2Error, status: int = 400) -> HttpResponse:
    """Never redirect when the client or redirect URI is not trusted (RFC 6749 §4.1.2.1)."""
    log.warning("oidc refused (page): error=%s description=%s path=%s client=%s", error.error,
                error.description, request.path, request.GET.get("client_id", "")[:64])
    return render(request, "identity/oidc/error.html",
                  {"error": error.error, "description": error.description, "base_template": citizen_base_template()},
                  status=status)


def _reauth_since(params: dict[str, str]) -> int | None:
    """When this request sent the citizen to log in again (signed, so it cannot be forged)."""
    marker = params.get("_reauth")
    if not marker:
        return None
    try:
        return int(signing.loads(marker, salt=REAUTH_SALT, max_age=REAUTH_MAX_AGE))
    except (signing.BadSignature, ValueError, TypeError):
        return None


def _login_redirect(request: HttpRequest, *, force: bool) -> HttpResponse:
    query = request.GET.copy()
    if force:
        query["_reauth"] = signing.dumps(int(time.time()), salt=REAUTH_SALT)
    next_url = f"{request.path}?{query.urlencode()}"
    login_query = {"next": next_url, **({"prompt": "login"} if force else {})}
    return redirect(f"{reverse('identity:login')}?{urlencode(login_query)}")


def _step_up_redirect(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('identity:step_up')}?{urlencode({'next': request.get_full_path(), 'acr': 'level-2'})}")


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    bind_issuer(request)
    try:
        params, pushed = par.authorization_params(request)
    except OAuth2Error as exc:
        return _error_page(request, exc)
    oreq = ParamsRequest(request, {k: v for k, v in params.items() if k != "_reauth"})
    account = auth.current_account(request)
    try:
        grant = server.get_consent_grant(request=oreq, end_user=account)
    except OAuth2Error as exc:
        if exc.redirect_uri:
            return server.handle_error_response(oreq, exc)
        return _error_page(request, exc)
    client = grant.request.client
    state = params.get("state")

    def refuse(error_cls: type[OAuth2Error], description: str) -> HttpResponse:
        return server.handle_error_response(
            oreq, error_cls(description=description, redirect_uri=grant.redirect_uri, state=state))

    if client.require_pushed_authorization_requests and not pushed:
        return refuse(InvalidRequestError, "This client must use pushed authorization requests (RFC 9126).")
    prompt = set(params.get("prompt", "").split())
    if account is None:
        if "none" in prompt:
            return refuse(LoginRequiredError, "No citizen session.")
        return _login_redirect(request, force=False)

    auth_time = auth.session_auth_time(request) or 0
    wants_fresh = "login" in prompt
    max_age = params.get("max_age", "")
    if max_age:
        if not max_age.isdigit():
            return refuse(InvalidRequestError, "max_age must be a non-negative integer.")
        wants_fresh = wants_fresh or time.time() - auth_time > int(max_age)
    if wants_fresh:
        since = _reauth_since(params)
        if since is None or auth_time < since:
            if "none" in prompt:
                return refuse(LoginRequiredError, "Re-authentication required.")
            return _login_redirect(request, force=True)

    acr = auth.session_acr(request) or auth.ACR_LEVEL1
    if auth.ACR_LEVEL2 in params.get("acr_values", "").split() and acr != auth.ACR_LEVEL2:
        if not account.is_level2:
            return refuse(UnmetAuthenticationRequirements,
                          "The account is level 1; level 2 is activated in person at the commune police.")
        if "none" in prompt:
            return refuse(InteractionRequiredError, "Step-up to level-2 required.")
        return _step_up_redirect(request)

    ward = auth.acting_for(request)
    subject = ward or account
    grantee = Grantee(account=subject, actor_account=account if ward else None, acr=acr,
                      amr=auth.session_amr(request), auth_time=auth_time,
                      session_key=request.session.session_key or "")
    scopes = grant.request.scope.split()

    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision == "deny":
            log.info("oidc consent denied: client=%s account=%s", client.client_id, subject.pk)
            return refuse(AccessDeniedError, "The citizen declined.")
        if decision != "allow":
            return _error_page(request, InvalidRequestError(description="Unknown consent decision."))
        services.grant_consent(account=subject, granted_by=account, client=client, scopes=scopes)
        # authlib is untyped; its Django AuthorizationServer answers with an HttpResponse
        response: HttpResponse = server.create_authorization_response(request=oreq, grant_user=grantee, grant=grant)
        return response

    if "consent" in prompt or not selectors.consent_covers(account=subject, client=client, scopes=scopes):
        if "none" in prompt:
            return refuse(ConsentRequiredError, "Consent required.")
        page = render(request, "identity/oidc/consent.html", {
            "client": client, "scopes": [(s, SCOPE_LABELS.get(s, s)) for s in scopes], "subject": subject,
            "acting_for": ward, "acr": acr, "base_template": citizen_base_template(),
        })
        # The consent form's answer is a redirect to the client (code or access_denied).
        return allow_form_action(page, [registered_redirect_origin(client, grant.redirect_uri)])
    response = server.create_authorization_response(request=oreq, grant_user=grantee, grant=grant)
    return response


def _json_error(error: str, description: str, status: int) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status,
                        headers={"Cache-Control": "no-store"})


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    bind_issuer(request)
    response: HttpResponse = server.create_token_response(request)  # authlib is untyped (Django server)
    return response


@csrf_exempt
@require_POST
def pushed_authorization_request(request: HttpRequest) -> HttpResponse:
    """RFC 9126 §2: authenticate the client, validate the parameters as /authorize would, store."""
    bind_issuer(request)
    params = {k: v for k, v in request.POST.dict().items() if k not in par.CLIENT_AUTH_PARAMS}
    oreq = ParamsRequest(request, params)
    try:
        client = server.authenticate_client(oreq, AUTH_METHODS, endpoint="par")
        if params.get("client_id") and params["client_id"] != client.client_id:
            raise InvalidRequestError("client_id does not match the authenticated client.")
        if "request_uri" in params:
            raise InvalidRequestError("request_uri must not be pushed.")
        params["client_id"] = client.client_id
        server.get_consent_grant(request=ParamsRequest(request, params), end_user=None)
    except OAuth2Error as exc:
        exc.redirect_uri = None  # back-channel: always JSON, never a redirect
        return server.handle_error_response(oreq, exc)
    return JsonResponse(par.push(client=client, params=params), status=201, headers={"Cache-Control": "no-store"})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> HttpResponse:
    """Opaque Bearer access tokens, looked up by digest: revocation (consent withdrawn, family
    revoked, client disabled) takes effect on the next call, which a self-contained JWT cannot do."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        response = _json_error("invalid_token", "Bearer access token required.", 401)
        response["WWW-Authenticate"] = 'Bearer realm="popid"'
        return response
    row = selectors.token_by_access_digest(digest(value.strip()))
    if (row is None or row.revoked_at or row.is_expired() or not row.client.is_active
            or not row.account.is_active):
        log.warning("oidc userinfo refused: invalid token from %s", net.client_ip(request))
        response = _json_error("invalid_token", "The access token is invalid, expired or revoked.", 401)
        response["WWW-Authenticate"] = 'Bearer realm="popid", error="invalid_token"'
        return response
    scopes = row.scope.split()
    claims: dict[str, Any] = subject_claims(row.client, row.account, row.actor_account)
    claims.update(release_claims(account=row.account, client=row.client, scopes=scopes, acr=row.acr,
                                 consent_ref=f"oidc-token-{row.pk}"))
    return JsonResponse(claims, json_dumps_params={"ensure_ascii": False}, headers={"Cache-Control": "no-store"})


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    issuer = bind_issuer(request)

    def url(name: str) -> str:
        return issuer + reverse(f"oidc:{name}")

    metadata = {
        "issuer": issuer,
        "authorization_endpoint": url("authorize"),
        "token_endpoint": url("token"),
        "userinfo_endpoint": url("userinfo"),
        "jwks_uri": url("jwks"),
        "end_session_endpoint": url("logout"),
        "pushed_authorization_request_endpoint": url("par"),
        "require_pushed_authorization_requests": False,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(keys.OIDC_ALGS),
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(SCOPES),
        "claims_supported": CLAIMS_SUPPORTED,
        "acr_values_supported": [auth.ACR_LEVEL1, auth.ACR_LEVEL2],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "ui_locales_supported": ["vi", "en"],
        "claims_locales_supported": ["vi"],
    }
    return JsonResponse(metadata, headers={"Cache-Control": "public, max-age=300"})


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    return JsonResponse(keys.public_jwks(), headers={"Cache-Control": "public, max-age=300"})


@never_cache
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """RP-initiated logout 1.0 via Authlib's end-session endpoint: redirect only to a
    post_logout_redirect_uri registered exactly for the client named by a valid id_token_hint;
    otherwise ask for confirmation (CSRF-protected POST) and show a local page."""
    bind_issuer(request)
    try:
        validated = server.validate_endpoint_request("end_session", request)
    except OAuth2Error as exc:
        return _error_page(request, exc)
    requested = validated.request.payload.data.get("post_logout_redirect_uri")
    if requested and not validated.redirect_uri:
        log.warning("oidc logout: post_logout_redirect_uri not accepted (%s), no redirect", requested[:200])
    context = {"base_template": citizen_base_template(), "client": validated.client}
    if validated.needs_confirmation and request.method != "POST":
        return render(request, "identity/oidc/logout_confirm.html", context)
    response = server.create_endpoint_response("end_session", validated)
    return response or render(request, "identity/oidc/logged_out.html", context)
