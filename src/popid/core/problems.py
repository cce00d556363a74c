"""RFC 9457 problem details: the one shape every API error takes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from popid.core.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://popid.example/problems/"


def problem_response(
    request: HttpRequest | None,
    *,
    status: int,
    code: str,
    title: str,
    detail: str = "",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JsonResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": str(title),
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = str(detail)
    if request is not None:
        body["instance"] = request.path
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE,
                            json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    if status == 401 and not response.has_header("WWW-Authenticate"):
        response["WWW-Authenticate"] = 'Bearer realm="popid"'  # RFC 9110 §15.5.2: every 401 names a scheme
    return response


def domain_error_response(request: HttpRequest | None, exc: DomainError) -> JsonResponse:
    extra: dict[str, Any] = {k: (str(v) if not isinstance(v, int | float | bool | list | dict) else v)
             for k, v in exc.extra.items()}
    return problem_response(
        request, status=exc.status, code=exc.code, title=str(exc.title),
        detail=str(exc.detail) if exc.detail else "", errors=exc.errors(), **extra,
    )


def not_found_response(request: HttpRequest) -> JsonResponse:
    return problem_response(request, status=404, code="not_found", title=_("Không tìm thấy"),
                            detail=_("Đường dẫn không tồn tại"))
