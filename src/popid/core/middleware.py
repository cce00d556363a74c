"""Cross-cutting HTTP behaviour: a strict Content-Security-Policy on every response,
and problem JSON for every error under /api/ (unknown paths and oversized bodies included)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from popid.core.problems import problem_response

FORM_ACTION_ATTR = "popid_csp_form_action"


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, as a CSP source; None otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if any(c in host for c in " ;,'\"*") or not host.isascii():
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def allow_form_action(response: HttpResponse, origins: Iterable[str | None]) -> HttpResponse:
    """Let the page in ``response`` submit forms whose redirect chain ends at these origins.

    Chromium applies ``form-action`` to every redirect that follows a form submission, so a page
    whose form ends with a redirect to another origin (an OIDC relying party's ``redirect_uri``)
    must name that origin. Only this response's policy changes; every other page keeps
    ``form-action 'self'``. Callers pass origins they have checked (a client's registered
    redirect URI); anything that is not a plain http(s) origin is ignored."""
    allowed = list(getattr(response, FORM_ACTION_ATTR, []))
    for origin in (origin_of(o) for o in origins if o):
        if origin and origin not in allowed:
            allowed.append(origin)
    if allowed:
        setattr(response, FORM_ACTION_ATTR, allowed)
    return response


def policy_for(response: HttpResponse) -> str:
    """The site policy, with this response's extra ``form-action`` origins if it has any."""
    policy = settings.CONTENT_SECURITY_POLICY
    extra = getattr(response, FORM_ACTION_ATTR, None)
    if not extra:
        return policy
    directives = []
    for directive in (d.strip() for d in policy.split(";")):
        tokens = directive.split()
        if tokens and tokens[0].lower() == "form-action":
            sources = [t for t in tokens[1:] if t.lower() != "'none'"]
            directive = " ".join(["form-action", *sources, *(o for o in extra if o not in sources)])
        if directive:
            directives.append(directive)
    return "; ".join(directives)  # no form-action directive at all: forms are unrestricted anyway


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", policy_for(response))
        response.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        return response


class ApiProblemMiddleware:
    """Turns Django-level failures on /api/ paths into problem JSON instead of HTML pages,
    keeping the headers that belong to the status (``Allow`` on 405, RFC 9110 §15.5.6)."""

    KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith("/api/")
        if is_api and request.method in {"POST", "PUT", "PATCH"}:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
            if declared > self._limit(request):
                return self._too_big(request)
        if is_api and self._is_multipart(request) and request.method in {"POST", "PUT", "PATCH"}:
            try:
                request.POST  # noqa: B018 - parse once here so a broken body is a problem, not a 400 page
            except MultiPartParserError:
                return problem_response(request, status=400, code="malformed_body",
                                        title=_("Nội dung yêu cầu không đúng định dạng"))
            except RequestDataTooBig:
                return self._too_big(request)
        if is_api and self._has_nul(request):
            return problem_response(
                request, status=422, code="invalid_characters", title=_("Dữ liệu chứa ký tự không hợp lệ"),
                detail=_("Không chấp nhận ký tự NUL (0x00) trong đường dẫn, tham số hay nội dung"),
            )
        response = self.get_response(request)
        if is_api and response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            ("application/problem+json", "application/json")
        ):
            kept = {name: response[name] for name in self.KEPT_HEADERS if response.has_header(name)}
            return problem_response(
                request, status=response.status_code, code=f"http_{response.status_code}",
                title=response.reason_phrase, headers=kept,
            )
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") and isinstance(exception, RequestDataTooBig):
            return self._too_big(request)
        return None

    @staticmethod
    def _is_multipart(request: HttpRequest) -> bool:
        return request.content_type == "multipart/form-data"

    @classmethod
    def _limit(cls, request: HttpRequest) -> int:
        """JSON and form bodies are small; multipart bodies carry attachment files, whose own
        size and type each procedure checks, so they get the larger upload cap."""
        if cls._is_multipart(request):
            return settings.POPID_MAX_UPLOAD_BYTES
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    @classmethod
    def _has_nul(cls, request: HttpRequest) -> bool:
        """NUL cannot be stored in PostgreSQL text: refuse it at the edge, for every field at once.
        Files in a multipart body are binary (a PDF holds NUL bytes): only its text fields and
        file names are checked."""
        raw_query = request.META.get("QUERY_STRING", "").lower()
        if "\x00" in request.path or "%00" in raw_query:
            return True
        if request.method in {"POST", "PUT", "PATCH"} and cls._is_multipart(request):
            try:
                fields = [v for _, values in request.POST.lists() for v in values]
                names = [f.name or "" for _, files in request.FILES.lists() for f in files]
            except RequestDataTooBig:
                return False
            return any("\x00" in value or "\\u0000" in value for value in fields + names)
        if request.method in {"POST", "PUT", "PATCH"}:
            try:
                body = request.body
            except RequestDataTooBig:
                return False
            return b"\x00" in body or b"\\u0000" in body
        return False

    @classmethod
    def _too_big(cls, request: HttpRequest) -> HttpResponse:
        return problem_response(
            request, status=413, code="payload_too_large", title=_("Dữ liệu gửi lên quá lớn"),
            detail=_("Giới hạn là %(limit)d byte") % {"limit": cls._limit(request)},
        )
