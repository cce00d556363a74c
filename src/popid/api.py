"""The officer API (django-ninja): one NinjaAPI, routers per app, every error as problem JSON."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from popid.core.auth import STAFF_AUTH
from popid.core.errors import DomainError
from popid.core.openapi import document_problems
from popid.core.problems import database_unavailable_response, domain_error_response, problem_response
from popid.registry.api import router as registry_router
from popid.registry.quality_api import router as quality_router


class PopidAPI(NinjaAPI):
    """The generated OpenAPI document is rewritten by ``core.openapi.document_problems`` so it
    describes the problem+json errors every operation really answers with."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        return document_problems(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


api = PopidAPI(
    title="PopID API",
    version="1",
    urls_namespace="api",
    auth=STAFF_AUTH,
    docs_url="/docs",
    description=(
        "API cho cán bộ công an xã/phường và cán bộ giám sát: tra cứu, tìm kiếm công dân, "
        "thực hiện các lệnh đăng ký dân cư và xem kết quả kiểm tra chất lượng dữ liệu. "
        "Mọi lỗi trả về dạng application/problem+json (RFC 9457)."
    ),
)
api.add_router("/", registry_router)
api.add_router("/quality", quality_router)
api.add_router("/services", "popid.services.api.router")
api.add_router("/ledger", "popid.ledger.api.router")
api.add_router("/exchange", "popid.exchange.api.router")
api.add_router("/documents", "popid.documents.api.router")
api.add_router("/wallet", "popid.wallet.api.router")
api.add_router("/traffic", "popid.traffic.api.router")
api.add_router("/immigration", "popid.immigration.api.router")
api.add_router("/police", "popid.police.api.router")
api.add_router("/records", "popid.records.api.router")


def _location(loc: list) -> str:
    parts = [str(p) for p in loc if p not in {"body", "query", "path", "payload"}]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _location(list(e.get("loc", []))), "reason": e.get("type", "invalid"), "message": e.get("msg", "")}
        for e in exc.errors
    ]
    return problem_response(request, status=422, code="validation_failed", title=_("Dữ liệu không hợp lệ"),
                            errors=errors)


@api.exception_handler(DomainError)
def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return domain_error_response(request, exc)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(request, status=401, code="unauthenticated", title=_("Cần đăng nhập"),
                            headers={"WWW-Authenticate": 'Bearer realm="popid"'})


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(request, status=404, code="not_found", title=_("Không tìm thấy"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return problem_response(request, status=400, code="malformed_body",
                                title=_("Không đọc được nội dung yêu cầu"), detail=str(exc))
    return problem_response(request, status=exc.status_code, code=f"http_{exc.status_code}", title=str(exc))


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The database restarting or unreachable: 503 + Retry-After, not a 500."""
    import logging

    logging.getLogger("popid.database").warning("database unavailable (%s): 503", type(exc).__name__)
    return database_unavailable_response(request)


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    import logging

    logging.getLogger("popid.api").exception("unhandled API error on %s", request.path)
    return problem_response(request, status=500, code="internal_error", title=_("Lỗi hệ thống"))
