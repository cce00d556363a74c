"""RFC 9457 problem details: the one shape every API error takes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
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


# --- the database unavailable (restart, failover): 503, never a crash page --------------------
RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException | None) -> bool:
    """A connection the database refused or dropped (restart, failover, too many clients)."""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError))


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: problem JSON under ``/api/``, a self-contained page elsewhere (it
    reads nothing from the database: no session, no user)."""
    from django.template.loader import render_to_string

    from popid.core import logs

    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return problem_response(request, status=503, code="database_unavailable",
                                title=_("Cơ sở dữ liệu tạm thời không truy cập được"),
                                detail=_("Yêu cầu chưa được thực hiện; vui lòng thử lại sau ít giây"), headers=headers)
    html = render_to_string("core/unavailable.html", {"request_id": logs.current_request_id() or ""})
    return HttpResponse(html, status=503, headers=headers)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: Django calls it inside the ``except`` of any view or middleware failure."""
    import logging
    import sys

    from django.views import defaults

    exc = sys.exc_info()[1]
    if is_database_unavailable(exc):
        logging.getLogger("popid.database").warning("database unavailable (%s): 503", type(exc).__name__)
        return database_unavailable_response(request)
    if request.path.startswith("/api/"):
        return problem_response(request, status=500, code="internal_error", title=_("Lỗi hệ thống"))
    return defaults.server_error(request)
