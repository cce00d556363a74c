"""Citizen-facing account pages (Vietnamese first). Thin: parse the form, call one service or
selector, render; domain errors appear on the form beside the field they name.

Multi-step flows (registration → OTP, password → new-device OTP, recovery, self-unlock) keep
their state in the server-side session under ``PENDING`` with a time limit, never in hidden
fields, so a step cannot be skipped or replayed from another browser.
"""

from __future__ import annotations

import time
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from popid.core import throttle
from popid.core.errors import DomainError
from popid.core.net import Client
from popid.identity import auth, selectors, services
from popid.identity.errors import ChallengeRequired, OtpInvalid
from popid.identity.forms import (
    ChangePasscodeForm,
    ChangePasswordForm,
    LockForm,
    LoginForm,
    OtpForm,
    RecoveryOtpForm,
    RecoveryStartForm,
    RegisterForm,
    SecondFactorForm,
    TotpCodeForm,
    UnlockStartForm,
    WardForm,
)
from popid.identity.models import CitizenAccount, OtpPurpose
from popid.identity.oidc import selectors as oidc_selectors
from popid.identity.oidc import services as oidc_services
from popid.web.shell import CitizenRequest, apply_domain_error, citizen_view, render_citizen_page

PENDING = "popid_pending"
PENDING_TTL = 600
TOTP_PENDING = "popid_totp_pending"


def safe_next(request: HttpRequest, value: str | None, default: str = "identity:profile") -> str:
    """Only same-site relative targets: an absolute or scheme-relative ``next`` is an open redirect."""
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()) and value.startswith("/"):
        return value
    return reverse(default)


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A portal page of this app. Login, OTP and step-up forms continuing an OIDC authorization end
    with a redirect to the relying party: the page's CSP form-action must name exactly that
    client's registered redirect origin (issue #10, finding 1)."""
    next_url = context.get("next") or (request.session.get(PENDING) or {}).get("next") or ""
    if not next_url:
        return render_citizen_page(request, f"identity/{template}", context, status=status)
    from popid.identity.oidc.continuation import allow_continuation, continuing_client

    found = continuing_client(request, next_url)
    context = {**context, "asking_service": found[0].name if found else ""}
    response = render_citizen_page(request, f"identity/{template}", context, status=status)
    allow_continuation(request, response, next_url)
    return response


def _fail(form: forms.Form, exc: DomainError) -> int:
    apply_domain_error(form, exc)
    return exc.status if exc.status in {401, 403, 404, 409, 429} else 422


def _set_pending(request: HttpRequest, *, purpose: str, account_id: int | None, challenge_id: int | None,
                 next_url: str = "") -> None:
    request.session[PENDING] = {"purpose": purpose, "account": account_id, "challenge": challenge_id,
                                "next": next_url, "at": int(time.time())}


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending: dict[str, Any] | None = request.session.get(PENDING)  # as _set_pending stores it
    if not pending or time.time() - pending.get("at", 0) > PENDING_TTL:
        request.session.pop(PENDING, None)
        return None
    return pending


def _mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-3:]}" if len(phone) >= 7 else "***"


# --- registration (level 1) --------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                account, challenge = services.register_account(
                    id_number=data["id_number"], full_name=data["full_name"], birth_date=data["birth_date"],
                    phone=data["phone"], email=data["email"], face_photo=data["face_photo"],
                    password=data["password"], passcode=data["passcode"])
            except DomainError as exc:
                status = _fail(form, exc)
            else:
                _set_pending(request, purpose=OtpPurpose.REGISTER, account_id=account.pk, challenge_id=challenge.pk)
                return redirect("identity:otp")
    return _page(request, "register.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def otp(request: HttpRequest) -> HttpResponse:
    """The OTP step of every flow; what it completes depends on the pending purpose."""
    pending = _pending(request)
    if pending is None:
        messages.error(request, _("Phiên xác thực đã hết hạn, vui lòng thực hiện lại."))
        return redirect("identity:login")
    purpose = pending["purpose"]
    account = CitizenAccount.objects.select_related("user").filter(pk=pending["account"]).first()
    form_class = RecoveryOtpForm if purpose == OtpPurpose.RECOVERY else OtpForm
    form = form_class(request.POST or None)
    status = 200
    if request.method == "POST" and "resend" in request.POST and account is not None:
        try:
            challenge = services.send_otp(client=Client.of(request), account=account, purpose=purpose)
        except DomainError as exc:
            status = _fail(form_class(), exc)
            form = form_class()
            apply_domain_error(form, exc)
        else:
            pending.update(challenge=challenge.pk, at=int(time.time()))
            request.session[PENDING] = pending
            messages.info(request, _("Đã gửi lại mã OTP."))
            return redirect("identity:otp")
    elif request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                return _complete_otp(request, pending, account, form.cleaned_data)
            except DomainError as exc:
                status = _fail(form, exc)
    return _page(request, "otp.html", {"form": form, "purpose": purpose,
                                       "phone": _mask(account.phone) if account else "***"}, status=status)


def _complete_otp(request: HttpRequest, pending: dict[str, Any], account: CitizenAccount | None,
                  data: dict[str, Any]) -> HttpResponse:
    purpose, challenge_id, code = pending["purpose"], pending["challenge"] or 0, data["code"]
    if account is None:  # recovery for an unknown number/phone: same page, always refused
        raise OtpInvalid(field="code")
    if purpose == OtpPurpose.REGISTER:
        services.confirm_phone(client=Client.of(request), account=account, challenge_id=challenge_id, code=code)
        request.session.pop(PENDING, None)
        messages.success(request, _("Đã xác nhận số điện thoại. Tài khoản định danh điện tử mức độ 1 đã sẵn sàng; "
                                    "hãy đăng nhập."))
        return redirect("identity:login")
    if purpose == OtpPurpose.NEW_DEVICE:
        device = services.activate_new_device(client=Client.of(request), account=account, challenge_id=challenge_id,
                                              code=code)
        request.session.pop(PENDING, None)
        next_url = pending.get("next") or reverse("identity:profile")
        auth.login_citizen(request, account=account, amr=["pwd", "otp"], device=device)
        services.record_login(client=Client.of(request), account=account, method="pwd+otp(new device)", device=device)
        response = HttpResponseRedirect(safe_next(request, next_url))
        auth.set_device_cookie(response, device)
        return _logged_in(request, account, response)
    if purpose == OtpPurpose.RECOVERY:
        services.finish_recovery(client=Client.of(request), challenge_id=challenge_id, account_id=account.pk, code=code,
                                 new_password=data["new_password"])
        request.session.pop(PENDING, None)
        messages.success(request, _("Đã đặt lại mật khẩu. Hãy đăng nhập bằng mật khẩu mới."))
        # the phone's OTP proved the owner: this browser skips the account's back-off from now on,
        # so an attacker guessing this account cannot keep the owner's new device out
        return _logged_in(request, account, redirect("identity:login"))
    services.finish_self_unlock(client=Client.of(request), account_id=account.pk, challenge_id=challenge_id, code=code)
    request.session.pop(PENDING, None)
    messages.success(request, _("Đã mở khóa tài khoản. Hãy đăng nhập."))
    return redirect("identity:login")


# --- login, step-up, logout --------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Password first; on a known device that is the whole login (acr level-1), on a new device
    an OTP to the registered phone follows. ``prompt=login`` always shows the form."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    forced = request.GET.get("prompt") == "login" or request.POST.get("prompt") == "login"
    if request.method == "GET" and not forced and auth.current_account(request) is not None:
        return redirect(safe_next(request, next_url))
    form = LoginForm(request.POST or None)
    status = 200
    bits = 0
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                return _password_login(request, form, next_url)
            except ChallengeRequired as exc:
                status, bits = _fail(form, exc), exc.bits
            except DomainError as exc:
                status = _fail(form, exc)
    _offer_challenge(request, form, bits)
    return _page(request, "login.html", {"form": form, "next": next_url, "prompt": "login" if forced else ""},
                 status=status)


def _offer_challenge(request: HttpRequest, form: LoginForm, bits: int = 0) -> None:
    """From an address with many failed logins the next attempt needs a solved challenge:
    put a fresh one in the form (``identity/pow.js`` solves it in the browser)."""
    pending = throttle.pending_challenge_bits(Client.of(request), scope=throttle.FACTOR_PASSWORD)
    form.offer_challenge(scope=throttle.FACTOR_PASSWORD, bits=max(bits, pending))


def _logged_in(request: HttpRequest, account: CitizenAccount, response: HttpResponse) -> HttpResponse:
    """This browser is now a known device of the account for the login throttle (after a full
    login, or a password recovery proven by the phone's OTP)."""
    throttle.remember_device(request, response, scope=throttle.FACTOR_PASSWORD, account=account.id_number)
    return response


def _password_login(request: HttpRequest, form: LoginForm, next_url: str) -> HttpResponse:
    data = form.cleaned_data
    account = services.authenticate_password(client=Client.of(request), id_number=data["id_number"],
                                             password=data["password"], **form.pow_values())
    if account.phone_verified_at is None:
        challenge = services.send_otp(client=Client.of(request), account=account, purpose=OtpPurpose.REGISTER)
        _set_pending(request, purpose=OtpPurpose.REGISTER, account_id=account.pk, challenge_id=challenge.pk)
        return redirect("identity:otp")
    device = services.known_device(account=account, device_id=auth.read_device_id(request))
    if device is None:
        challenge = services.send_otp(client=Client.of(request), account=account, purpose=OtpPurpose.NEW_DEVICE)
        _set_pending(request, purpose=OtpPurpose.NEW_DEVICE, account_id=account.pk, challenge_id=challenge.pk,
                     next_url=safe_next(request, next_url))
        return redirect("identity:otp")
    auth.login_citizen(request, account=account, amr=["pwd"], device=device)
    services.record_login(client=Client.of(request), account=account, method="pwd", device=device)
    return _logged_in(request, account, redirect(safe_next(request, next_url)))


@citizen_view
@require_http_methods(["GET", "POST"])
def step_up(request: CitizenRequest) -> HttpResponse:
    """Upgrade the session to level-2 with the passcode or TOTP, then back to ``next``."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    account = request.account
    form = SecondFactorForm(request.POST or None)
    status = 200
    if account.is_level2 and request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                method = services.verify_second_factor(client=Client.of(request), account=account,
                                                       code=form.cleaned_data["code"])
            except DomainError as exc:
                status = _fail(form, exc)
            else:
                auth.add_factor(request, account=account, method=method)
                services.record_login(client=Client.of(request), account=account, method=f"step-up:{method}",
                                      device=None)
                return redirect(safe_next(request, next_url))
    return _page(request, "step_up.html", {"form": form, "next": next_url, "account": account},
                 status=status if account.is_level2 else 403)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.logout_session(session_key=request.session.session_key)
    logout(request)
    return redirect(safe_next(request, request.POST.get("next"), default="identity:login"))


# --- recovery and self-unlock ------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "POST"])
def recover(request: HttpRequest) -> HttpResponse:
    form = RecoveryStartForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            challenge = services.start_recovery(client=Client.of(request), id_number=data["id_number"],
                                                phone=data["phone"])
        except DomainError as exc:
            status = _fail(form, exc)
        else:
            account_id = challenge.account_id if challenge else None
            _set_pending(request, purpose=OtpPurpose.RECOVERY, account_id=account_id,
                         challenge_id=challenge.pk if challenge else None)
            messages.info(request, _("Nếu thông tin khớp với tài khoản, mã OTP đã được gửi tới số điện thoại."))
            return redirect("identity:otp")
    return _page(request, "simple_form.html", {"form": form, "title": _("Khôi phục mật khẩu"),
                                               "lead": _("Nhập số định danh và số điện thoại đã đăng ký để nhận "
                                                         "mã OTP.")}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def unlock(request: HttpRequest) -> HttpResponse:
    form = UnlockStartForm(request.POST or None)
    status = 200
    bits = 0
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account, challenge = services.start_self_unlock(client=Client.of(request), id_number=data["id_number"],
                                                            password=data["password"], **form.pow_values())
        except ChallengeRequired as exc:
            status, bits = _fail(form, exc), exc.bits
        except DomainError as exc:
            status = _fail(form, exc)
        else:
            _set_pending(request, purpose=OtpPurpose.UNLOCK, account_id=account.pk, challenge_id=challenge.pk)
            return redirect("identity:otp")
    _offer_challenge(request, form, bits)
    return _page(request, "simple_form.html", {"form": form, "title": _("Mở khóa tài khoản"),
                                               "lead": _("Tài khoản do bạn tự khóa được mở bằng mật khẩu và mã OTP.")},
                 status=status)


# --- account pages -----------------------------------------------------------------------------
@citizen_view
def profile(request: CitizenRequest) -> HttpResponse:
    account = request.account
    ward = auth.acting_for(request)
    shown = ward or account
    data = selectors.profile_for(viewer=account, account=shown)
    return _page(request, "profile.html", {
        "account": account, "shown": shown, "profile": data, "wards": selectors.wards_of(account=account),
        "guardians": selectors.guardians_of(account=shown), "ward_form": WardForm(),
        "acr": auth.session_acr(request),
    })


@citizen_view
@require_POST
def add_ward(request: CitizenRequest) -> HttpResponse:
    form = WardForm(request.POST)
    if form.is_valid():
        try:
            link = services.create_ward_account(client=Client.of(request), guardian=request.account,
                                                ward_id_number=form.cleaned_data["ward_id_number"],
                                                passcode=form.cleaned_data["passcode"])
        except DomainError as exc:
            status = _fail(form, exc)
        else:
            messages.success(request, _("Đã đăng ký quản lý tài khoản của %(id)s") % {"id": link.ward.id_number})
            return redirect("identity:profile")
    else:
        status = 422
    account = request.account
    data = selectors.profile_for(viewer=account, account=account)
    return _page(request, "profile.html", {
        "account": account, "shown": account, "profile": data, "wards": selectors.wards_of(account=account),
        "guardians": selectors.guardians_of(account=account), "ward_form": form, "acr": auth.session_acr(request),
    }, status=status)


@citizen_view
@require_POST
def act_as(request: CitizenRequest) -> HttpResponse:
    """Switch to acting for a ward (``ward`` = account pk) or back to oneself (empty)."""
    account = request.account
    ward_pk = request.POST.get("ward", "")
    current = auth.acting_for(request)
    if not ward_pk:
        request.session.pop(auth.SESSION_ACTING_FOR, None)
        if current is not None:
            services.record_guardian_action(guardian=account, ward=current, kind="acting_ended")
        return redirect("identity:profile")
    link = selectors.active_guardianship(guardian=account, ward_pk=int(ward_pk)) if ward_pk.isdigit() else None
    if link is None:
        messages.error(request, _("Không thể quản lý tài khoản này"))
        return redirect("identity:profile")
    request.session[auth.SESSION_ACTING_FOR] = link.ward_id
    services.record_guardian_action(guardian=account, ward=link.ward, kind="acting_started")
    messages.info(request, _("Bạn đang thao tác thay cho %(id)s") % {"id": link.ward.id_number})
    return redirect("identity:profile")


@citizen_view
@require_http_methods(["GET", "POST"])
def devices(request: CitizenRequest) -> HttpResponse:
    account = request.account
    if request.method == "POST":
        if device_id := request.POST.get("device", ""):
            if device_id.isdigit():
                services.revoke_device(account=account, device_id=int(device_id))
        elif (session_id := request.POST.get("session", "")).isdigit():
            services.end_session(account=account, session_id=int(session_id))
        messages.success(request, _("Đã cập nhật thiết bị và phiên đăng nhập."))
        return redirect("identity:devices")
    return _page(request, "devices.html", {
        "devices": selectors.devices_for(account=account), "sessions": selectors.sessions_for(account=account),
        "current_session": request.session.session_key, "current_device": auth.read_device_id(request)})


@citizen_view
@require_http_methods(["GET", "POST"])
def consents(request: CitizenRequest) -> HttpResponse:
    account = request.account
    if request.method == "POST":
        consent_id = request.POST.get("consent", "")
        if consent_id.isdigit():
            try:
                oidc_services.revoke_consent(account=account, consent_id=int(consent_id))
            except DomainError as exc:  # not found / not yours: same message
                messages.error(request, str(exc.title))
            else:
                messages.success(request, _("Đã thu hồi sự đồng ý."))
        return redirect("identity:consents")
    return _page(request, "consents.html",
                               {"consents": list(oidc_selectors.consents_for(account))})


@citizen_view
def history(request: CitizenRequest) -> HttpResponse:
    account = request.account
    return _page(request, "history.html", {"logins": selectors.login_history(account=account),
                                           "events": selectors.account_events(account=account)})


SECURITY_FORMS: dict[str, type[forms.Form]] = {
    "password": ChangePasswordForm, "passcode": ChangePasscodeForm, "totp_enable": TotpCodeForm,
    "totp_disable": TotpCodeForm, "lock": LockForm,
}


@citizen_view
@require_http_methods(["GET", "POST"])
def security(request: CitizenRequest) -> HttpResponse:
    account = request.account
    bound: dict[str, forms.Form] = {}
    status = 200
    action = request.POST.get("action", "")
    if request.method == "POST" and action in SECURITY_FORMS:
        form = SECURITY_FORMS[action](request.POST)
        bound[action] = form
        status = 422
        if form.is_valid():
            try:
                response = _security_action(request, action, form.cleaned_data)
            except DomainError as exc:
                status = _fail(form, exc)
            else:
                return response
    if not account.has_totp and TOTP_PENDING not in request.session:
        request.session[TOTP_PENDING] = services.new_totp_secret()
    forms_ = {name: bound.get(name) or cls() for name, cls in SECURITY_FORMS.items()}
    return _page(request, "security.html", {"account": account, "forms": forms_,
                                            "totp_secret": request.session.get(TOTP_PENDING, "")}, status=status)


def _security_action(request: CitizenRequest, action: str, data: dict[str, Any]) -> HttpResponse:
    account = request.account
    if action == "password":
        services.change_password(client=Client.of(request), account=account, old_password=data["old_password"],
                                 new_password=data["new_password"])
        messages.success(request, _("Đã đổi mật khẩu; các phiên đăng nhập khác đã kết thúc."))
    elif action == "passcode":
        services.change_passcode(client=Client.of(request), account=account, password=data["password"],
                                 new_passcode=data["new_passcode"])
        messages.success(request, _("Đã đổi mã bảo vệ."))
    elif action == "totp_enable":
        services.enable_totp(client=Client.of(request), account=account, secret=request.session.get(TOTP_PENDING, ""),
                             code=data["code"])
        request.session.pop(TOTP_PENDING, None)
        messages.success(request, _("Đã bật xác thực bằng ứng dụng (TOTP)."))
    elif action == "totp_disable":
        services.disable_totp(client=Client.of(request), account=account, code=data["code"])
        messages.success(request, _("Đã tắt xác thực bằng ứng dụng (TOTP)."))
    else:
        services.lock_by_citizen(account=account, reason=data["reason"])
        logout(request)
        messages.success(request, _("Tài khoản đã được khóa. Mở khóa bằng mật khẩu và mã OTP."))
        return redirect("identity:login")
    return redirect("identity:security")


@citizen_view
def totp_qr(request: CitizenRequest) -> HttpResponse:
    """The enrolment QR code as SVG, drawn on the server (no inline script under the strict CSP)."""
    secret = request.session.get(TOTP_PENDING, "")
    if not secret or request.account.has_totp:
        return HttpResponse(status=404)
    image = qrcode.make(services.totp_uri(account=request.account, secret=secret),
                        image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    response = HttpResponse(image.to_string(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response
