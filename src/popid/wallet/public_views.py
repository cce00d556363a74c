"""Public, unauthenticated endpoints: SD-JWT VC issuer metadata and JWKS per authority, status
lists, and the OpenID4VCI metadata, token, nonce and credential endpoints (CSRF-exempt: they are
called by wallets with their own credentials, never by a browser session)."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from popid.wallet import oid4vci
from popid.wallet.issuers import ISSUERS, Issuer, issuer_base
from popid.wallet.status import TTL, status_list_token

MAX_BODY = 16 * 1024


def _issuer(slug: str) -> Issuer:
    issuer = ISSUERS.get(slug)
    if issuer is None:
        raise Http404
    return issuer


def _json(data: dict[str, Any], status: int = 200, *, cache_seconds: int = 0) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = f"public, max-age={cache_seconds}" if cache_seconds else "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def jwt_vc_issuer_metadata(request: HttpRequest, slug: str) -> HttpResponse:
    """SD-JWT VC issuer metadata (draft-ietf-oauth-sd-jwt-vc §5): the issuer and its JWKS inline."""
    issuer = _issuer(slug)
    base = issuer_base(request)
    return _json({"issuer": issuer.iss(base), "jwks": issuer.jwks()}, cache_seconds=300)


@require_GET
def issuer_jwks(request: HttpRequest, slug: str) -> HttpResponse:
    return _json(_issuer(slug).jwks(), cache_seconds=300)


@require_GET
def issuer_home(request: HttpRequest, slug: str) -> HttpResponse:
    issuer = _issuer(slug)
    base = issuer_base(request)
    return _json({"issuer": issuer.iss(base), "name": issuer.name,
                  "jwks_uri": f"{issuer.iss(base)}/jwks", "status_list": issuer.status_uri(base, 1)},
                 cache_seconds=300)


@require_GET
def status_list(request: HttpRequest, slug: str, list_id: int) -> HttpResponse:
    """The signed status list token (``application/statuslist+jwt``)."""
    issuer = _issuer(slug)
    if list_id != 1:
        raise Http404
    token = status_list_token(issuer.slug, list_id, issuer_base(request))
    response = HttpResponse(token, content_type="application/statuslist+jwt")
    response["Cache-Control"] = f"public, max-age={TTL}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def credential_issuer_metadata(request: HttpRequest) -> HttpResponse:
    return _json(oid4vci.issuer_metadata(issuer_base(request)), cache_seconds=300)


@require_GET
def authorization_server_metadata(request: HttpRequest) -> HttpResponse:
    return _json(oid4vci.authorization_server_metadata(issuer_base(request)), cache_seconds=300)


def _oauth_error(exc: oid4vci.OAuthError) -> JsonResponse:
    response = _json({"error": exc.error, "error_description": exc.description}, status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
    return response


@csrf_exempt
@never_cache
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    try:
        return _json(oid4vci.token(grant_type=request.POST.get("grant_type", ""),
                                   code=request.POST.get("pre-authorized_code", ""),
                                   tx_code=request.POST.get("tx_code", "")))
    except oid4vci.OAuthError as exc:
        return _oauth_error(exc)


@csrf_exempt
@never_cache
@require_POST
def nonce(request: HttpRequest) -> HttpResponse:
    return _json({"c_nonce": oid4vci.new_nonce()})


@csrf_exempt
@never_cache
@require_POST
def credential(request: HttpRequest) -> HttpResponse:
    if len(request.body) > MAX_BODY:
        return _oauth_error(oid4vci.OAuthError("invalid_request", "body too large"))
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return _oauth_error(oid4vci.OAuthError("invalid_request", "body must be a JSON object"))
    try:
        return _json(oid4vci.credential(authorization=request.headers.get("Authorization", ""), body=body,
                                        base=issuer_base(request)))
    except oid4vci.OAuthError as exc:
        return _oauth_error(exc)


@never_cache
@require_GET
def compact_presentation(request: HttpRequest, ref: str) -> HttpResponse:
    """A compact presentation's full text for the verifier that names its audience
    (``?aud=``): what a verifier of another installation, or ``popid verify``, fetches before
    verifying (issue #19 item 6). 404 for unknown or another verifier's, 410 once expired."""
    from popid.wallet import compact
    from popid.wallet.sdjwt import Refused

    try:
        payload = compact.resolve(ref, audience=request.GET.get("aud", "")[:300])
    except Refused as exc:
        status = 410 if exc.reason == "reference_expired" else 404
        return HttpResponse(exc.reason, status=status, content_type="text/plain; charset=utf-8")
    return HttpResponse(payload, content_type="application/dc+sd-jwt")
