"""Writes on identity accounts. Each public function is one transaction, takes keyword-only
arguments, raises typed ``identity.errors`` and writes an ``AccountEvent`` (or a ``LoginEvent``
for authentication) so every change says who made it. Messages (OTP SMS) leave on commit.

Throttling (``core.throttle``): the password goes through ``begin_login`` (known devices skip the
per-account back-off; a sprayed address needs a proof-of-work challenge, never a refusal of the
right password); second factors are throttled per factor and per (account, client IP), with
exponential back-off and a per-IP cap.
"""

from __future__ import annotations

import hmac
import io
import re
import secrets
from datetime import date, timedelta
from typing import Any

import pyotp
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from popid.core import messaging, throttle
from popid.core.access import AccessContext, Actor
from popid.core.errors import DomainError, ValidationFailed
from popid.core.id_numbers import ID_NUMBER_RE
from popid.core.net import Client
from popid.core.permissions import Permission
from popid.core.text import normalize_text
from popid.identity.errors import (
    AccountExists,
    AccountLocked,
    CardMismatch,
    ChallengeRequired,
    GuardianshipRefused,
    InvalidCredentials,
    InvalidPhoto,
    LevelTwoRequired,
    OtpInvalid,
    RegistryMismatch,
    Throttled,
)
from popid.identity.models import (
    AccountEvent,
    AccountStatus,
    CitizenAccount,
    CitizenSession,
    Device,
    Guardianship,
    GuardianshipKind,
    LoginEvent,
    OtpChallenge,
    OtpPurpose,
)
from popid.identity.sessions import end_sessions
from popid.registry import selectors as registry_selectors
from popid.registry.errors import PersonNotFound
from popid.registry.models import FamilyRelation, IdentityCard, Person, PersonStatus, RelationKind

OTP_TTL = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 5
PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_MAX_PIXELS = 4096 * 4096
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png"}
CHILD_AGE_LIMIT = 14
PHONE_RE = re.compile(r"^(?:0|\+84)(\d{9})$")
PASSCODE_RE = re.compile(r"^\d{6}$")
PURPOSE_REGISTRATION = "Đối chiếu thông tin đăng ký tài khoản định danh điện tử"
PURPOSE_GUARDIAN = "Đăng ký tài khoản định danh điện tử cho người được giám hộ"
_DUMMY_HASH = make_password("popid-timing-equaliser")


def _after_commit(callback: Any) -> None:
    """SMS leave only if the transaction that created the code commits (tests run it at once)."""
    transaction.on_commit(callback)


def _field_error(field: str, reason: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "reason": reason, "message": message}])


def _event(account: CitizenAccount, kind: str, *, actor: str, actor_unit: str = "", reason: str = "",
           on_behalf_of: str = "", **details: Any) -> None:
    AccountEvent.objects.create(account=account, kind=kind, actor=actor, actor_unit=actor_unit, reason=reason,
                                on_behalf_of=on_behalf_of, details=details)


def _throttle(client: Client, factor: str, account: str) -> None:
    verdict = throttle.check_factor(client, factor=factor, account=account)
    if not verdict.allowed:
        raise Throttled(verdict.retry_after)


# --- input checks ------------------------------------------------------------------------------
def normalize_phone(phone: str) -> str:
    """Vietnamese mobile numbers as 0xxxxxxxxx (accepts +84…, spaces and dots)."""
    compact = re.sub(r"[\s.\-]", "", phone or "")
    match = PHONE_RE.match(compact)
    if not match:
        raise _field_error("phone", "format", _("Số điện thoại gồm 10 chữ số, bắt đầu bằng 0 (hoặc +84)"))
    return "0" + match.group(1)


def check_passcode_format(passcode: str, *, field: str = "passcode") -> None:
    """Six digits, not one repeated digit nor a run like 123456: those are guessed first."""
    if not PASSCODE_RE.match(passcode or ""):
        raise _field_error(field, "format", _("Mã bảo vệ gồm đúng 6 chữ số"))
    if len(set(passcode)) == 1 or passcode in "0123456789" or passcode in "9876543210":
        raise _field_error(field, "weak", _("Mã bảo vệ quá dễ đoán (dãy số lặp hoặc liên tiếp)"))


def check_password_strength(password: str, *, id_number: str, field: str = "password") -> None:
    user = get_user_model()(username=id_number)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed([{"field": field, "reason": "weak", "message": m} for m in exc.messages]) from exc


def check_face_photo(photo: UploadedFile[bytes]) -> str:
    """JPEG or PNG, at most 2 MB, and really an image (decoded by Pillow, not trusted by name
    or declared type). Returns the file extension to store it under."""
    if photo.size is None or photo.size > PHOTO_MAX_BYTES:
        raise InvalidPhoto(_("Ảnh tối đa 2 MB"), field="face_photo")
    data = photo.read()
    photo.seek(0)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise InvalidPhoto(_("Ảnh quá lớn về kích thước điểm ảnh"), field="face_photo")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidPhoto(_("Tệp không phải ảnh JPEG hoặc PNG hợp lệ"), field="face_photo") from exc
    if image_format not in PHOTO_FORMATS:
        raise InvalidPhoto(_("Chỉ nhận ảnh JPEG hoặc PNG"), field="face_photo")
    return PHOTO_FORMATS[image_format]


def _registry_person(id_number: str, purpose: str) -> Person | None:
    """Registry read as the system, recorded in the access log with the purpose."""
    ctx = AccessContext(actor=Actor.system("identity"), purpose=purpose, channel="identity")
    try:
        return registry_selectors.access_person(ctx=ctx, id_number=id_number,
                                                fields=["full_name", "birth_date", "status"])
    except PersonNotFound:
        return None


def age_on(person: Person, day: date) -> int | None:
    if person.birth_date is None:
        return None
    born = person.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- OTP ---------------------------------------------------------------------------------------
def _otp_hash(challenge_salt: str, code: str) -> str:
    """Keyed HMAC (SECRET_KEY): a 6-digit code has too little entropy for any hash to protect it,
    so the key is what keeps a stolen database from revealing live codes."""
    return salted_hmac("popid.identity.otp", f"{challenge_salt}:{code}", algorithm="sha256").hexdigest()


def _issue_otp(account: CitizenAccount, purpose: str, phone: str) -> OtpChallenge:
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(8)
    # Older unused codes of the same purpose die: only the newest SMS works.
    OtpChallenge.objects.filter(account=account, purpose=purpose, used_at__isnull=True).update(
        used_at=timezone.now())
    challenge = OtpChallenge.objects.create(
        account=account, purpose=purpose, phone=phone, code_hash=f"{salt}${_otp_hash(salt, code)}",
        expires_at=timezone.now() + OTP_TTL)
    text = _("PopID: mã xác thực của bạn là %(code)s, hiệu lực 5 phút. Không chia sẻ mã này với bất kỳ ai.") % {
        "code": code}
    _after_commit(lambda: messaging.send_sms(phone, text))
    return challenge


@transaction.atomic
def send_otp(*, client: Client, account: CitizenAccount, purpose: str) -> OtpChallenge:
    """A new code to the account's phone; sending is throttled like a factor (SMS bombing)."""
    _throttle(client, throttle.OTP_SEND, account.id_number)
    throttle.fail_factor(client, factor=throttle.OTP_SEND, account=account.id_number)  # each send counts
    return _issue_otp(account, purpose, account.phone)


def _check_otp(client: Client, *, challenge_id: int, account: CitizenAccount, purpose: str, code: str) -> None:
    """Consume the challenge or raise OtpInvalid; a wrong code costs an attempt that persists."""
    _throttle(client, throttle.FACTOR_OTP, account.id_number)
    ok = False
    with transaction.atomic():
        challenge = (OtpChallenge.objects.select_for_update()
                     .filter(pk=challenge_id, account=account, purpose=purpose).first())
        now = timezone.now()
        if (challenge is not None and challenge.used_at is None and challenge.expires_at > now
                and challenge.attempts < OTP_MAX_ATTEMPTS):
            salt, _sep, expected = challenge.code_hash.partition("$")
            ok = bool(re.fullmatch(r"\d{6}", code or "")) and hmac.compare_digest(expected, _otp_hash(salt, code))
            if ok:
                challenge.used_at = now
                challenge.save(update_fields=["used_at"])
            else:
                OtpChallenge.objects.filter(pk=challenge.pk).update(attempts=F("attempts") + 1)
    if not ok:
        throttle.fail_factor(client, factor=throttle.FACTOR_OTP, account=account.id_number)
        raise OtpInvalid(_("Kiểm tra lại mã trong tin nhắn mới nhất, hoặc yêu cầu gửi lại mã."), field="code")
    throttle.pass_factor(client, factor=throttle.FACTOR_OTP, account=account.id_number)


# --- level 1 registration ----------------------------------------------------------------------
@transaction.atomic
def register_account(
    *, id_number: str, full_name: str, birth_date: date, phone: str, email: str, face_photo: UploadedFile[bytes],
    password: str, passcode: str,
) -> tuple[CitizenAccount, OtpChallenge]:
    """Level-1 self-registration (Decree 69/2024, Art. 12): every item must match the national
    population database, or nothing is saved and the reason is given. The phone is confirmed
    afterwards by OTP (``confirm_phone``); until then the account cannot log in."""
    id_number = (id_number or "").strip()
    if not ID_NUMBER_RE.match(id_number):
        raise _field_error("id_number", "format", _("Số định danh cá nhân gồm đúng 12 chữ số"))
    phone = normalize_phone(phone)
    check_password_strength(password, id_number=id_number)
    check_passcode_format(passcode)
    extension = check_face_photo(face_photo)
    person = _registry_person(id_number, PURPOSE_REGISTRATION)
    if person is None or person.id_number != id_number:
        raise RegistryMismatch(_("Số định danh cá nhân không có trong Cơ sở dữ liệu quốc gia về dân cư"),
                               field="id_number")
    if person.status != PersonStatus.ALIVE:
        raise RegistryMismatch(_("Hồ sơ công dân không ở trạng thái còn sống"), field="id_number")
    if normalize_text(full_name) != person.name_norm:
        raise RegistryMismatch(_("Họ và tên không khớp với Cơ sở dữ liệu quốc gia về dân cư"), field="full_name")
    if person.birth_date != birth_date:
        raise RegistryMismatch(_("Ngày sinh không khớp với Cơ sở dữ liệu quốc gia về dân cư"), field="birth_date")
    age = age_on(person, timezone.localdate())
    if age is not None and age < CHILD_AGE_LIMIT:
        raise RegistryMismatch(_("Người dưới 14 tuổi được đăng ký qua tài khoản mức độ 2 của cha, mẹ hoặc "
                                 "người giám hộ"), field="id_number")
    user_model = get_user_model()
    if user_model.objects.filter(username=id_number).exists():
        raise AccountExists(_("Nếu quên mật khẩu, hãy dùng chức năng khôi phục mật khẩu."), field="id_number")
    user = user_model(username=id_number, email=email or "")
    user.set_password(password)
    user.save()
    account = CitizenAccount(user=user, person=person, level=1, phone=phone, email=email or "",
                             passcode_hash=make_password(passcode))
    face_photo.name = f"{secrets.token_hex(16)}.{extension}"  # never the uploader's file name
    account.face_photo = face_photo
    account.save()
    _event(account, "registered", actor=id_number, level=1)
    return account, _issue_otp(account, OtpPurpose.REGISTER, phone)


def confirm_phone(*, client: Client, account: CitizenAccount, challenge_id: int, code: str) -> CitizenAccount:
    """The OTP is checked in its own transaction first, so a wrong code's counted attempt is
    never rolled back by the refusal; then the change is one transaction."""
    _check_otp(client, challenge_id=challenge_id, account=account, purpose=OtpPurpose.REGISTER, code=code)
    with transaction.atomic():
        account.phone_verified_at = timezone.now()
        account.save(update_fields=["phone_verified_at"])
        _event(account, "phone_confirmed", actor=account.id_number, phone=account.phone)
    return account


# --- authentication ----------------------------------------------------------------------------
def _login_event(client: Client, *, username: str, account: CitizenAccount | None, result: str,
                 method: str) -> None:
    LoginEvent.objects.create(account=account, username=username[:150], result=result, method=method,
                              ip=client.ip[:64],
                              device=client.user_agent[:200])


def authenticate_password(*, client: Client, id_number: str, password: str, pow_challenge: str = "",
                          pow_solution: str = "") -> CitizenAccount:
    """First factor. Unknown number and wrong password give the same error (and take the same
    time). ``core.throttle.begin_login`` decides first, without looking at the password: a known
    device has its own back-off; other browsers share the account's back-off, and from an address
    with many failures they must bring a solved proof-of-work challenge (``ChallengeRequired``)."""
    id_number = (id_number or "").strip()
    if not ID_NUMBER_RE.match(id_number):
        raise InvalidCredentials(_("Số định danh cá nhân gồm đúng 12 chữ số"), field="id_number")
    attempt = throttle.begin_login(client, scope=throttle.FACTOR_PASSWORD, account=id_number,
                                   pow_challenge=pow_challenge, pow_solution=pow_solution)
    if attempt.verdict.challenge_bits:
        raise ChallengeRequired(attempt.verdict.challenge_bits)
    if not attempt.verdict.allowed:
        raise Throttled(attempt.verdict.retry_after)
    account = (CitizenAccount.objects.select_related("user", "person")
               .filter(user__username=id_number).first())
    if account is None:
        check_password(password, _DUMMY_HASH)
        valid = False
    else:
        valid = account.user.check_password(password) and account.user.is_active
    if not valid:
        attempt.failed()
        _login_event(client, username=id_number, account=account, result="wrong_password", method="pwd")
        raise InvalidCredentials(_("Số định danh hoặc mật khẩu không đúng"))
    assert account is not None
    attempt.succeeded()
    if not account.is_active:
        _login_event(client, username=id_number, account=account, result="locked", method="pwd")
        raise AccountLocked(account.get_status_display())
    return account


def known_device(*, account: CitizenAccount, device_id: str | None) -> Device | None:
    """The account's active device if the (verified) cookie names it."""
    if not device_id:
        return None
    return Device.objects.filter(account=account, public_id=device_id, revoked_at__isnull=True).first()


def record_login(*, client: Client, account: CitizenAccount, method: str, device: Device | None) -> None:
    """Login history row for a completed login; touches the device."""
    if device is not None:
        Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now())
    _login_event(client, username=account.id_number, account=account, result="success", method=method)


def activate_new_device(*, client: Client, account: CitizenAccount, challenge_id: int, code: str) -> Device:
    """A new device proven by OTP becomes the one active device; every other device is revoked
    and its sessions end (one device logged in at a time, as in VNeID)."""
    _check_otp(client, challenge_id=challenge_id, account=account, purpose=OtpPurpose.NEW_DEVICE, code=code)
    with transaction.atomic():
        now = timezone.now()
        Device.objects.filter(account=account, revoked_at__isnull=True).update(revoked_at=now)
        end_sessions(CitizenSession.objects.filter(account=account))
        device = Device.objects.create(account=account, public_id=secrets.token_urlsafe(24),
                                       label=client.user_agent[:200], last_seen_at=now)
        _event(account, "device_activated", actor=account.id_number, device=device.label[:80])
    return device


def verify_second_factor(*, client: Client, account: CitizenAccount, code: str) -> str:
    """Passcode (6 digits) or TOTP code: returns the method name for ``amr``. Each factor has
    its own counter, so an attacker burning passcode guesses leaves TOTP untouched and vice versa."""
    code = (code or "").strip()
    if account.has_totp:
        _throttle(client, throttle.FACTOR_TOTP, account.id_number)
        if re.fullmatch(r"\d{6}", code) and pyotp.TOTP(account.totp_secret).verify(code, valid_window=1):
            throttle.pass_factor(client, factor=throttle.FACTOR_TOTP, account=account.id_number)
            return "totp"
        throttle.fail_factor(client, factor=throttle.FACTOR_TOTP, account=account.id_number)
    _throttle(client, throttle.FACTOR_PASSCODE, account.id_number)
    if PASSCODE_RE.match(code) and account.passcode_hash and check_password(code, account.passcode_hash):
        throttle.pass_factor(client, factor=throttle.FACTOR_PASSCODE, account=account.id_number)
        return "passcode"
    throttle.fail_factor(client, factor=throttle.FACTOR_PASSCODE, account=account.id_number)
    _login_event(client, username=account.id_number, account=account, result="wrong_second_factor",
                 method="passcode")
    raise InvalidCredentials(_("Mã bảo vệ hoặc mã TOTP không đúng"), field="code")


# --- recovery and self-unlock ------------------------------------------------------------------
def _account_by_id_and_phone(id_number: str, phone: str) -> CitizenAccount | None:
    try:
        phone = normalize_phone(phone)
    except ValidationFailed:
        return None
    return CitizenAccount.objects.select_related("user").filter(
        user__username=(id_number or "").strip(), phone=phone, phone_verified_at__isnull=False).first()


@transaction.atomic
def start_recovery(*, client: Client, id_number: str, phone: str) -> OtpChallenge | None:
    """Forgotten password: an OTP to the registered phone when number and phone match. The
    caller shows the same page either way, so the form does not reveal who has an account."""
    account = _account_by_id_and_phone(id_number, phone)
    if account is None:
        return None
    return send_otp(client=client, account=account, purpose=OtpPurpose.RECOVERY)


def finish_recovery(*, client: Client, challenge_id: int, account_id: int, code: str,
                    new_password: str) -> CitizenAccount:
    account = CitizenAccount.objects.select_related("user").get(pk=account_id)
    check_password_strength(new_password, id_number=account.id_number, field="new_password")
    _check_otp(client, challenge_id=challenge_id, account=account, purpose=OtpPurpose.RECOVERY, code=code)
    with transaction.atomic():
        account.user.set_password(new_password)
        account.user.save(update_fields=["password"])
        end_sessions(CitizenSession.objects.filter(account=account))
        _event(account, "password_recovered", actor=account.id_number)
    return account


def start_self_unlock(*, client: Client, id_number: str, password: str, pow_challenge: str = "",
                      pow_solution: str = "") -> tuple[CitizenAccount, OtpChallenge]:
    """A citizen who locked their own account unlocks it with password + OTP. An officer's lock
    cannot be lifted this way."""
    try:
        account = authenticate_password(client=client, id_number=id_number, password=password,
                                        pow_challenge=pow_challenge, pow_solution=pow_solution)
    except AccountLocked:
        account = CitizenAccount.objects.select_related("user").get(user__username=id_number.strip())
    if account.status == AccountStatus.LOCKED_BY_OFFICER:
        raise AccountLocked(_("Tài khoản do cán bộ công an khóa; liên hệ công an xã/phường để mở khóa."))
    if account.status == AccountStatus.ACTIVE:
        raise DomainError(_("Tài khoản không bị khóa."))
    return account, send_otp(client=client, account=account, purpose=OtpPurpose.UNLOCK)


def finish_self_unlock(*, client: Client, account_id: int, challenge_id: int, code: str) -> CitizenAccount:
    account = CitizenAccount.objects.get(pk=account_id)
    _check_otp(client, challenge_id=challenge_id, account=account, purpose=OtpPurpose.UNLOCK, code=code)
    with transaction.atomic():
        account = CitizenAccount.objects.select_for_update().get(pk=account_id)
        if account.status != AccountStatus.LOCKED_BY_CITIZEN:
            raise AccountLocked(_("Tài khoản do cán bộ công an khóa; liên hệ công an xã/phường để mở khóa."))
        account.status, account.status_reason = AccountStatus.ACTIVE, ""
        account.save(update_fields=["status", "status_reason"])
        _event(account, "unlocked_by_citizen", actor=account.id_number)
    return account


# --- security settings (the citizen on their own account) ---------------------------------------
def _confirm_password(client: Client, account: CitizenAccount, password: str, *, field: str,
                      message: str) -> None:
    """The logged-in citizen re-enters their password. Checked outside the change's transaction,
    so a wrong password's counted failure is not rolled back with the refusal (the throttle
    counters may live in the database)."""
    _throttle(client, throttle.FACTOR_REAUTH, account.id_number)
    if not account.user.check_password(password):
        throttle.fail_factor(client, factor=throttle.FACTOR_REAUTH, account=account.id_number)
        raise InvalidCredentials(message, field=field)
    throttle.pass_factor(client, factor=throttle.FACTOR_REAUTH, account=account.id_number)


def change_password(*, client: Client, account: CitizenAccount, old_password: str,
                    new_password: str) -> None:
    _confirm_password(client, account, old_password, field="old_password",
                      message=_("Mật khẩu hiện tại không đúng"))
    check_password_strength(new_password, id_number=account.id_number, field="new_password")
    with transaction.atomic():
        account.user.set_password(new_password)
        account.user.save(update_fields=["password"])
        current = client.session_key
        end_sessions(CitizenSession.objects.filter(account=account).exclude(session_key=current))
        _event(account, "password_changed", actor=account.id_number)


def change_passcode(*, client: Client, account: CitizenAccount, password: str, new_passcode: str) -> None:
    """A forgotten passcode is reset with the password (the password itself with an SMS OTP)."""
    _confirm_password(client, account, password, field="password", message=_("Mật khẩu không đúng"))
    check_passcode_format(new_passcode, field="new_passcode")
    with transaction.atomic():
        CitizenAccount.objects.filter(pk=account.pk).update(passcode_hash=make_password(new_passcode))
        _event(account, "passcode_changed", actor=account.id_number)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(*, account: CitizenAccount, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.id_number, issuer_name="PopID")


def enable_totp(*, client: Client, account: CitizenAccount, secret: str, code: str) -> None:
    """Enrolment completes only when the app shows a correct code for the secret (checked before
    the transaction, so a wrong code's counted failure survives the refusal)."""
    _throttle(client, throttle.FACTOR_TOTP, account.id_number)
    if not re.fullmatch(r"[A-Z2-7]{16,64}", secret or "") or not pyotp.TOTP(secret).verify(code, valid_window=1):
        throttle.fail_factor(client, factor=throttle.FACTOR_TOTP, account=account.id_number)
        raise InvalidCredentials(_("Mã từ ứng dụng xác thực không đúng"), field="code")
    with transaction.atomic():
        CitizenAccount.objects.filter(pk=account.pk).update(totp_secret=secret)
        account.totp_secret = secret
        _event(account, "totp_enabled", actor=account.id_number)


def disable_totp(*, client: Client, account: CitizenAccount, code: str) -> None:
    verify_second_factor(client=client, account=account, code=code)  # its failure log must survive
    with transaction.atomic():
        CitizenAccount.objects.filter(pk=account.pk).update(totp_secret="")
        account.totp_secret = ""
        _event(account, "totp_disabled", actor=account.id_number)


@transaction.atomic
def lock_by_citizen(*, account: CitizenAccount, reason: str = "") -> None:
    """Self-lock (lost phone, suspected theft): ends every session at once."""
    CitizenAccount.objects.filter(pk=account.pk).update(status=AccountStatus.LOCKED_BY_CITIZEN,
                                                        status_reason=reason[:300])
    account.status = AccountStatus.LOCKED_BY_CITIZEN
    end_sessions(CitizenSession.objects.filter(account=account))
    _event(account, "locked_by_citizen", actor=account.id_number, reason=reason[:300])


@transaction.atomic
def revoke_device(*, account: CitizenAccount, device_id: int) -> None:
    device = Device.objects.filter(account=account, pk=device_id, revoked_at__isnull=True).first()
    if device is None:
        return
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at"])
    end_sessions(CitizenSession.objects.filter(account=account, device=device))
    _event(account, "device_revoked", actor=account.id_number, device=device.label[:80])


@transaction.atomic
def end_session(*, account: CitizenAccount, session_id: int) -> None:
    end_sessions(CitizenSession.objects.filter(account=account, pk=session_id))
    _event(account, "session_ended", actor=account.id_number)


def logout_session(*, session_key: str | None) -> None:
    if session_key:
        CitizenSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(ended_at=timezone.now())


# --- officer actions (console) -----------------------------------------------------------------
def _officer_account(actor: Actor, account_id: int, *, officer_only: bool) -> CitizenAccount:
    """Locks the account row; same refusal for missing and outside jurisdiction."""
    actor.require(Permission.ACCOUNT_VERIFY if officer_only else Permission.ACCOUNT_MANAGE)
    account = (CitizenAccount.objects.select_for_update().select_related("person", "user")
               .filter(pk=account_id).first())
    if account is None or not actor.covers_commune(account.person.commune_code):
        from popid.identity.errors import AccountNotFound

        raise AccountNotFound()
    return account


@transaction.atomic
def activate_level2(*, actor: Actor, account_id: int, card_number: str) -> CitizenAccount:
    """Level 2 in person (Decree 69/2024, Art. 13): the officer checked the card; its number
    must be the person's active card in the registry (or, for chip cards, the ID number)."""
    account = _officer_account(actor, account_id, officer_only=True)
    card_number = (card_number or "").strip()
    person = account.person
    if person.status != PersonStatus.ALIVE:
        raise CardMismatch(_("Hồ sơ công dân không ở trạng thái còn sống"), field="card_number")
    active_cards = set(IdentityCard.objects.filter(person=person, is_active=True).values_list("card_number",
                                                                                              flat=True))
    if not card_number or card_number not in active_cards | {person.id_number}:
        raise CardMismatch(_("Số thẻ đã kiểm tra không phải thẻ căn cước đang có hiệu lực của công dân"),
                           field="card_number")
    if not account.phone_verified_at:
        raise DomainError(_("Công dân chưa xác nhận số điện thoại"), field="card_number")
    account.level = 2
    account.level2_activated_at = timezone.now()
    account.level2_officer = actor.label
    account.level2_unit = actor.unit_name or actor.unit_code
    account.level2_card_number = card_number
    account.save(update_fields=["level", "level2_activated_at", "level2_officer", "level2_unit",
                                "level2_card_number"])
    _event(account, "level2_activated", actor=actor.label, actor_unit=account.level2_unit, card_number=card_number)
    return account


@transaction.atomic
def lock_by_officer(*, actor: Actor, account_id: int, reason: str) -> CitizenAccount:
    account = _officer_account(actor, account_id, officer_only=False)
    if not (reason or "").strip():
        raise _field_error("reason", "required", _("Nhập lý do"))
    account.status, account.status_reason = AccountStatus.LOCKED_BY_OFFICER, reason.strip()[:300]
    account.save(update_fields=["status", "status_reason"])
    end_sessions(CitizenSession.objects.filter(account=account))
    _event(account, "locked_by_officer", actor=actor.label, actor_unit=actor.unit_name, reason=account.status_reason)
    return account


@transaction.atomic
def unlock_by_officer(*, actor: Actor, account_id: int, reason: str) -> CitizenAccount:
    """Officers lift any lock (a citizen who locked themselves may also come to the station)."""
    account = _officer_account(actor, account_id, officer_only=False)
    if not (reason or "").strip():
        raise _field_error("reason", "required", _("Nhập lý do"))
    account.status, account.status_reason = AccountStatus.ACTIVE, ""
    account.save(update_fields=["status", "status_reason"])
    _event(account, "unlocked_by_officer", actor=actor.label, actor_unit=actor.unit_name, reason=reason.strip()[:300])
    return account


# --- guardianship ------------------------------------------------------------------------------
def guardianship_kind(*, guardian: Person, ward: Person, today: date) -> str | None:
    """What the registry says: the guardian's open parent→child relation with a child under 14,
    or an open guardian/ward relation in either record. None if the registry shows neither."""
    relations = FamilyRelation.objects.filter(ended_on__isnull=True)
    is_parent = relations.filter(person=guardian, kind=RelationKind.CHILD, relative=ward).exists()
    age = age_on(ward, today)
    if is_parent and age is not None and age < CHILD_AGE_LIMIT:
        return GuardianshipKind.PARENT
    if (relations.filter(person=guardian, kind=RelationKind.WARD, relative=ward).exists()
            or relations.filter(person=ward, kind=RelationKind.GUARDIAN, relative=guardian).exists()):
        return GuardianshipKind.LEGAL_GUARDIAN
    return None


def create_ward_account(*, client: Client, guardian: CitizenAccount, ward_id_number: str,
                        passcode: str) -> Guardianship:
    """A level-2 parent or guardian opens (or links) the account of a child under 14 or a
    ward. The child's account has no password of its own: it is used only through the
    guardian's login, and every action is recorded as the guardian's."""
    if not guardian.is_level2:
        raise LevelTwoRequired(_("Chỉ tài khoản mức độ 2 được đăng ký cho con hoặc người được giám hộ"))
    verify_second_factor(client=client, account=guardian, code=passcode)  # its failure log must survive
    with transaction.atomic():
        return _link_ward(guardian=guardian, ward_id_number=ward_id_number)


def _link_ward(*, guardian: CitizenAccount, ward_id_number: str) -> Guardianship:
    ward_id_number = (ward_id_number or "").strip()
    if not ID_NUMBER_RE.match(ward_id_number):
        raise _field_error("ward_id_number", "format", _("Số định danh cá nhân gồm đúng 12 chữ số"))
    ward_person = _registry_person(ward_id_number, PURPOSE_GUARDIAN)
    kind = None
    if ward_person is not None and ward_person.status == PersonStatus.ALIVE:
        kind = guardianship_kind(guardian=guardian.person, ward=ward_person, today=timezone.localdate())
    if kind is None or ward_person is None:
        raise GuardianshipRefused(_("Cơ sở dữ liệu dân cư không ghi nhận quan hệ cha/mẹ với con dưới 14 tuổi "
                                    "hoặc quan hệ giám hộ với người này"), field="ward_id_number")
    ward = CitizenAccount.objects.filter(person=ward_person).first()
    if ward is None:
        user_model = get_user_model()
        user = user_model(username=ward_person.id_number)
        user.set_unusable_password()
        user.save()
        ward = CitizenAccount.objects.create(
            user=user, person=ward_person, level=1, phone=guardian.phone, phone_verified_at=timezone.now())
        _event(ward, "registered_by_guardian", actor=guardian.id_number, on_behalf_of=ward.id_number)
    link, _created = Guardianship.objects.get_or_create(
        guardian=guardian, ward=ward, ended_on=None, defaults={"kind": kind, "valid_from": timezone.localdate()})
    _event(ward, "guardianship_started", actor=guardian.id_number, relation=kind)
    _event(guardian, "guardianship_started", actor=guardian.id_number, ward=ward.id_number, relation=kind)
    return link


def record_guardian_action(*, guardian: CitizenAccount, ward: CitizenAccount, kind: str, **details: Any) -> None:
    """Anything done while acting for a ward is written on the ward's account as the guardian's."""
    _event(ward, kind, actor=guardian.id_number, on_behalf_of=ward.id_number, **details)
