"""The portal's own 400/403/404/500 pages and the CSRF refusal: translated, in the frame, with a way
back, instead of Django's bare English pages.

Mounted as ``handler404`` … in ``popid/urls.py`` and as ``CSRF_FAILURE_VIEW``. They must work when
nothing else does (the 500 page is rendered without a database query or context processors that
could fail again), so they render a self-contained template from a fixed context.
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

from popid.core import problems


def _home_for(request: HttpRequest) -> tuple[str, str]:
    """Officer pages lead back to the console, everything else to the citizen portal."""
    path = request.path
    if path.startswith(("/services/", "/quan-ly/", "/cong-an/", "/so-khop/", "/van-hanh/", "/console")):
        return "/", _("Về trang chủ cán bộ")
    return "/dich-vu-cong/", _("Về Cổng dịch vụ công")


def _page(request: HttpRequest, *, status: int, title: str, detail: str, back: bool = False) -> HttpResponse:
    home_url, home_label = _home_for(request)
    template = loader.get_template("web/http_error.html")
    body = template.render({"status": status, "title": title, "detail": detail, "home_url": home_url,
                            "home_label": home_label, "back": back, "path": request.path})
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, status=404, title=_("Không tìm thấy trang"),
                 detail=_("Địa chỉ này không có trên PopID, hoặc trang đã được chuyển. "
                          "Hãy kiểm tra lại đường dẫn."))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, status=400, title=_("Yêu cầu không hợp lệ"),
                 detail=_("Trình duyệt đã gửi một yêu cầu máy chủ không hiểu được."), back=True)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, status=403, title=_("Không có quyền truy cập"),
                 detail=_("Tài khoản của bạn không được phép mở trang này."), back=True)


def server_error(request: HttpRequest) -> HttpResponse:
    """A database restart or failover is 503 + Retry-After, and anything under /api/ is problem
    JSON (``core.problems.server_error``); the rest is this page."""
    if request.path.startswith("/api/") or problems.is_database_unavailable(sys.exc_info()[1]):
        return problems.server_error(request)
    return _page(request, status=500, title=_("Hệ thống đang gặp sự cố"),
                 detail=_("Lỗi đã được ghi lại để xử lý. Dữ liệu bạn đã lưu trước đó không bị ảnh hưởng; "
                          "hãy thử lại sau ít phút."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent after its page went stale (session expired, opened in another tab, cookies
    cleared): say so in words and offer to reload, never Django's debugging text."""
    return _page(request, status=403, title=_("Biểu mẫu đã hết hạn"),
                 detail=_("Trang này đã mở quá lâu hoặc phiên làm việc đã thay đổi, nên biểu mẫu không thể "
                          "gửi an toàn. Hãy quay lại, tải lại trang rồi gửi lại."), back=True)
