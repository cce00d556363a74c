"""The console and portal frame every app's pages use: one decorator pair (``officer_view`` for
the officer console, ``citizen_view`` for the citizen portal), one renderer per frame, the mapping
of domain errors to translated pages and form errors, and the access context of console reads.

Apps own their pages, forms, templates and URLs; they import this module and nothing else of
``popid.web``. Permissions are declared with ``core.permissions.requires`` under the decorator::

    @officer_view
    @requires(Permission.REGISTRY_READ)
    def person(request: ConsoleRequest, id_number: str) -> HttpResponse: ...
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, overload
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from popid.core import admin_units
from popid.core.access import AccessContext, Actor
from popid.core.errors import DomainError, PermissionDenied
from popid.core.models import ScopeLevel
from popid.core.permissions import Permission, declare_view
from popid.identity import auth
from popid.identity.models import CitizenAccount

PURPOSE_LOOKUP = "Tra cứu nghiệp vụ trên giao diện cán bộ"

View = Callable[..., HttpResponse]
# a decorated view answers what the view answers (a FileResponse, say) or one of the decorator's pages
_R = TypeVar("_R", bound=HttpResponseBase)


class ConsoleRequest(HttpRequest):
    actor: Actor


class CitizenRequest(HttpRequest):
    account: CitizenAccount


def console_context(request: ConsoleRequest, purpose: str = PURPOSE_LOOKUP) -> AccessContext:
    """Every console read states who reads and why; the channel tells the access log it was the console."""
    return AccessContext(actor=request.actor, purpose=purpose, channel="console")


# --- errors --------------------------------------------------------------------------------------
def _detail(exc: DomainError) -> str:
    detail, title = str(exc.detail or ""), str(exc.title)
    return "" if detail == title else detail


def error_page(request: HttpRequest, exc: DomainError) -> HttpResponse:
    reasons = [e["message"] for e in exc.errors() if e.get("message")]
    return render(request, "web/error.html", {"error": exc, "detail": _detail(exc), "reasons": reasons},
                  status=exc.status)


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Put each error next to the field it names; errors about fields the form does not
    show (or hidden ones, like ``version``) go to the top of the form."""
    visible = {name for name, field in form.fields.items() if not field.widget.is_hidden}
    placed = False
    said_beside: set[str] = set()
    for error in exc.errors():
        name = error.get("field", "")
        if name in visible:
            message = error.get("message") or str(exc.title)
            form.add_error(name, message)
            said_beside.add(str(message))
            placed = True
    # The box above the form is left out only when it would repeat, word for word, what the field says.
    repeats = placed and not _detail(exc) and said_beside == {str(exc.title)}
    form.domain_error = {"title": str(exc.title), "detail": _detail(exc), "placed": placed,  # type: ignore[attr-defined]
                         "repeats": repeats, "code": exc.code}


# --- the officer console -------------------------------------------------------------------------
def officer_view(view: Callable[..., _R]) -> Callable[..., _R | HttpResponse]:
    """Login required, staff role required (translated refusal otherwise), ``request.actor``
    set; domain errors raised by the view — 'not found' and 'not yours' from selectors alike,
    a missing permission from ``core.permissions.requires`` — render the error page, never a 500."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> _R | HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            request.actor = Actor.for_user(request.user)  # type: ignore[attr-defined]
        except PermissionDenied as exc:
            return error_page(request, exc)
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return error_page(request, exc)

    wrapper.frame = "officer"  # type: ignore[attr-defined]
    return wrapper


def render_page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A console page (templates extend ``web/base.html``)."""
    return render(request, template, context, status=status)


def commune_datalist(actor: Actor) -> list[admin_units.Unit]:
    """Communes the officer may type: their province's, or every commune for national staff."""
    if actor.level == ScopeLevel.NATION:
        return list(admin_units.communes().values())
    province = actor.unit_code if actor.level == ScopeLevel.PROVINCE else admin_units.province_of_commune(
        actor.unit_code)
    return admin_units.communes_by_province().get(province or "", [])


# --- the citizen portal --------------------------------------------------------------------------
DRAFT_KEY = "popid_draft"
DRAFT_TTL_SECONDS = 30 * 60
# Never kept: secrets, one-time codes and the form's own CSRF token.
_NOT_KEPT = ("csrf", "password", "passcode", "otp", "code", "pin", "secret", "token", "challenge")


def _keep_draft(request: HttpRequest) -> None:
    """A form sent after the login expired is not lost: its fields (not secrets, not files) wait in
    the new anonymous session, which Django's login keeps, and fill the same page after login."""
    fields = {name: request.POST.getlist(name) for name in request.POST
              if not any(word in name.lower() for word in _NOT_KEPT)}
    if fields:
        request.session[DRAFT_KEY] = {"path": request.path, "fields": fields, "at": int(time.time())}
    messages.info(request, _("Phiên đăng nhập đã hết hạn nên biểu mẫu chưa được gửi. Hãy đăng nhập lại: "
                             "thông tin bạn đã điền được giữ lại (trừ mật khẩu và tệp đính kèm)."))


def _restore_draft(request: HttpRequest) -> dict[str, list[str]] | None:
    """The kept draft, once, on the page it came from and only within its lifetime."""
    if request.method != "GET" or not hasattr(request, "session"):
        return None
    draft = request.session.get(DRAFT_KEY)
    if not isinstance(draft, dict) or draft.get("path") != request.path:
        return None
    del request.session[DRAFT_KEY]
    if int(time.time()) - int(draft.get("at", 0)) > DRAFT_TTL_SECONDS:
        return None
    messages.info(request, _("Đã điền lại thông tin bạn nhập trước khi phiên hết hạn; hãy kiểm tra rồi gửi."))
    fields = draft.get("fields")
    return fields if isinstance(fields, dict) else None


def _to(name: str, request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")


@overload
def citizen_view(view: Callable[..., _R], *, level2: bool = False) -> Callable[..., _R | HttpResponse]: ...
@overload
def citizen_view(view: None = None, *,
                 level2: bool = False) -> Callable[[Callable[..., _R]], Callable[..., _R | HttpResponse]]: ...


def citizen_view(
    view: Callable[..., _R] | None = None, *, level2: bool = False,
) -> Callable[..., _R | HttpResponse] | Callable[[Callable[..., _R]], Callable[..., _R | HttpResponse]]:
    """Citizen login required (else the login page with ``next``), ``request.account`` set, never
    cached. ``level2=True`` (the wallet) also needs a level-2 account (else a 403 page) and a
    level-2 session (else the step-up page)."""

    def decorate(view: Callable[..., _R]) -> Callable[..., _R | HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> _R | HttpResponse:
            account = auth.current_account(request)
            if account is None:
                if request.method == "POST":
                    _keep_draft(request)
                return _to("identity:login", request)
            draft = _restore_draft(request)
            if draft:
                request.restored_draft = draft  # type: ignore[attr-defined]
            if level2 and not account.is_level2:
                return render_citizen_page(request, "wallet/level2_required.html", {}, status=403)
            if level2 and auth.session_acr(request) != auth.ACR_LEVEL2:
                return _to("identity:step_up", request)
            request.account = account  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        declare_view(view, Permission.CITIZEN_SELF_SERVICE)  # a citizen acting on their own data
        wrapper.frame = "citizen"  # type: ignore[attr-defined]
        wrapper.required_permission = Permission.CITIZEN_SELF_SERVICE  # type: ignore[attr-defined]
        return never_cache(wrapper)

    return decorate(view) if view is not None else decorate


def render_citizen_page(request: HttpRequest, template: str, context: dict[str, Any],
                        status: int = 200) -> HttpResponse:
    """A portal page (templates extend ``web/citizen_base.html``): the logged-in citizen and the
    ward they act for are in every page's context."""
    account = auth.current_account(request)
    context.setdefault("citizen", account)
    context.setdefault("restored_draft", getattr(request, "restored_draft", None))
    context.setdefault("acting_for", auth.acting_for(request) if account else None)
    return render(request, template, context, status=status)
