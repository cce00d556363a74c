"""Citizen identity accounts and what hangs off them: devices, OTP challenges, login history,
account events and guardianships. Personal data stays in the registry; an account points at
its ``registry.Person`` and never copies name or birth date."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Đang hoạt động")
    LOCKED_BY_CITIZEN = "locked_by_citizen", _("Công dân tự khóa")
    LOCKED_BY_OFFICER = "locked_by_officer", _("Cán bộ công an khóa")


class CitizenAccount(models.Model):
    """One citizen's electronic identification account; ``user.username`` is the ID number."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="citizen_account")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="identity_accounts")
    level = models.PositiveSmallIntegerField(default=1)
    phone = models.CharField(max_length=15)
    email = models.EmailField(blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    face_photo = models.FileField(upload_to="identity/faces/", blank=True)
    status = models.CharField(max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    passcode_hash = models.CharField(max_length=200, blank=True)
    totp_secret = models.CharField(max_length=64, blank=True)
    level2_activated_at = models.DateTimeField(null=True, blank=True)
    level2_officer = models.CharField(max_length=150, blank=True)
    level2_unit = models.CharField(max_length=200, blank=True)
    level2_card_number = models.CharField(max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(level__in=[1, 2]), name="citizenaccount_level_1_or_2"),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} (level {self.level})"

    @property
    def id_number(self) -> str:
        return self.user.get_username()

    @property
    def is_level2(self) -> bool:
        return self.level == 2

    @property
    def is_active(self) -> bool:
        return self.status == AccountStatus.ACTIVE

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret)


class Device(models.Model):
    """A browser that proved itself with an OTP. Only one per account is active at a time; the
    signed device cookie carries ``public_id``."""

    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="devices")
    public_id = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.account_id}: {self.label}"


class CitizenSession(models.Model):
    """A Django session opened by a citizen login, so sessions can be listed and ended."""

    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, db_index=True)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions")
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.account_id}: {self.created_at}"


class OtpPurpose(models.TextChoices):
    REGISTER = "register", _("Xác nhận số điện thoại")
    NEW_DEVICE = "new_device", _("Đăng nhập trên thiết bị mới")
    RECOVERY = "recovery", _("Khôi phục mật khẩu")
    UNLOCK = "unlock", _("Mở khóa tài khoản")


class OtpChallenge(models.Model):
    """A one-time code sent by SMS: only its hash is stored; used once, expires, counts tries."""

    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="otp_challenges")
    purpose = models.CharField(max_length=20, choices=OtpPurpose.choices)
    code_hash = models.CharField(max_length=200)
    phone = models.CharField(max_length=15)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.account_id} {self.purpose}"


class LoginEvent(models.Model):
    """Login history shown to the citizen: time, IP, device, result and method."""

    account = models.ForeignKey(CitizenAccount, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="login_events")
    username = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip = models.CharField(max_length=64, blank=True)
    device = models.CharField(max_length=200, blank=True)
    result = models.CharField(max_length=30)
    method = models.CharField(max_length=50, blank=True)

    def __str__(self) -> str:
        return f"{self.username} {self.result} {self.at}"


# What each account event is called on the citizen's and the officer's pages (issue #19 item 3:
# words, not codes such as ``device_activated``).
ACCOUNT_EVENT_LABELS = {
    "registered": _("Đăng ký tài khoản"),
    "registered_by_guardian": _("Người giám hộ đăng ký tài khoản"),
    "phone_confirmed": _("Xác nhận số điện thoại"),
    "device_activated": _("Kích hoạt thiết bị mới"),
    "device_revoked": _("Gỡ thiết bị"),
    "session_ended": _("Kết thúc phiên đăng nhập"),
    "password_recovered": _("Lấy lại mật khẩu"),
    "password_changed": _("Đổi mật khẩu"),
    "passcode_changed": _("Đổi mã PIN"),
    "totp_enabled": _("Bật ứng dụng xác thực"),
    "totp_disabled": _("Tắt ứng dụng xác thực"),
    "locked_by_citizen": _("Công dân tự khóa tài khoản"),
    "unlocked_by_citizen": _("Công dân mở khóa tài khoản"),
    "locked_by_officer": _("Cán bộ khóa tài khoản"),
    "unlocked_by_officer": _("Cán bộ mở khóa tài khoản"),
    "level2_activated": _("Kích hoạt mức độ 2"),
    "guardianship_started": _("Bắt đầu giám hộ"),
    "acting_started": _("Người giám hộ bắt đầu thao tác thay"),
    "acting_ended": _("Người giám hộ kết thúc thao tác thay"),
}


class AccountEvent(models.Model):
    """Audit trail of account changes: who did it (an officer, the citizen, or a guardian
    acting for a ward), from which unit, why."""

    account = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=40)
    actor = models.CharField(max_length=150)
    actor_unit = models.CharField(max_length=200, blank=True)
    on_behalf_of = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind}"

    @property
    def kind_label(self) -> str:
        label = ACCOUNT_EVENT_LABELS.get(self.kind)
        return str(label) if label is not None else self.kind.replace("_", " ")


class GuardianshipKind(models.TextChoices):
    PARENT = "parent", _("Cha/mẹ")
    LEGAL_GUARDIAN = "legal_guardian", _("Người giám hộ")


class Guardianship(models.Model):
    """A level-2 guardian manages a ward's account (child under 14 or person under guardianship)."""

    guardian = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="wardships")
    ward = models.ForeignKey(CitizenAccount, on_delete=models.CASCADE, related_name="guardianships")
    kind = models.CharField(max_length=20, choices=GuardianshipKind.choices)
    valid_from = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["guardian", "ward"], condition=models.Q(ended_on__isnull=True),
                                    name="guardianship_one_open_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.guardian_id} → {self.ward_id}"
