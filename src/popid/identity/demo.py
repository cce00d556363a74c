"""Demo citizens for a seeded installation: a level-1 citizen, the fixture citizen Nguyễn Văn An
at level 2, and his wife at level 2 managing their son's account (a real parent→child pair of
the seeded registry). Logins are appended to ``demo-accounts.json`` next to the staff logins
(same keys, ``"role": "citizen"``, plus passcode and phone); OTPs go to the file outbox.

Like the staff accounts, passwords are random the first time and kept on later seeds.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from popid.core.demo_accounts import accounts_file
from popid.core.errors import ValidationFailed
from popid.identity import services
from popid.identity.models import CitizenAccount, Guardianship, GuardianshipKind
from popid.registry.models import FamilyRelation, IdentityCard, Person, PersonStatus, RelationKind

FIXTURE_NAME = "Nguyễn Văn An"
FIXTURE_BIRTH_DATE = date(1990, 5, 12)
FIXTURE_COMMUNE = "00070"


def _photo() -> ContentFile[bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), (210, 170, 140)).save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=f"{secrets.token_hex(16)}.png")


def _phone(person: Person, fallback: str) -> str:
    try:
        return services.normalize_phone(person.phone)
    except ValidationFailed:  # an unusable registry phone falls back to a demo number
        return fallback


def _passcode() -> str:
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        try:
            services.check_passcode_format(code)
        except ValidationFailed:  # weak random passcode: draw again
            continue
        return code


def _ensure(person: Person, *, level: int, fallback_phone: str, known: dict[str, dict[str, Any]]) -> dict[str, Any]:
    user_model = get_user_model()
    entry = known.get(person.id_number, {})
    user = user_model.objects.filter(username=person.id_number).first()
    password, passcode = entry.get("password"), entry.get("passcode")
    if user is None:
        user = user_model(username=person.id_number)
    if not password or not user.check_password(password):
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save()
    account = CitizenAccount.objects.filter(user=user).first()
    phone = _phone(person, fallback_phone)
    if account is None:
        account = CitizenAccount(user=user, person=person, phone=phone, phone_verified_at=timezone.now(),
                                 face_photo=_photo())
    if not passcode:
        passcode = _passcode()
        account.passcode_hash = make_password(passcode)
    account.level = level
    if level == 2 and not account.level2_activated_at:
        card = IdentityCard.objects.filter(person=person, is_active=True).first()
        account.level2_activated_at = timezone.now()
        account.level2_officer, account.level2_unit = "canbo.hoankiem", "Công an phường Hoàn Kiếm (dữ liệu mẫu)"
        account.level2_card_number = card.card_number if card else person.id_number
    account.save()
    return {"username": person.id_number, "password": password, "role": "citizen", "level": str(level),
            "unit_code": "", "unit_name": "", "passcode": passcode, "phone": account.phone,
            "full_name": person.full_name, "description": ""}


@transaction.atomic
def ensure_demo_citizens() -> list[dict[str, Any]]:
    """Create the demo citizens if their registry records exist; merge them into the login file."""
    path = accounts_file()
    try:
        existing = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        existing = []
    known = {a["username"]: a for a in existing if a.get("role") == "citizen"}
    an = Person.objects.filter(full_name=FIXTURE_NAME, birth_date=FIXTURE_BIRTH_DATE,
                               commune_code=FIXTURE_COMMUNE).first()
    citizens: list[dict[str, Any]] = []
    if an is not None:
        entry = _ensure(an, level=2, fallback_phone="0900000002", known=known)
        citizens.append({**entry, "description": "Công dân mức độ 2 (công dân mẫu)"})
        child_ids = FamilyRelation.objects.filter(person=an, kind=RelationKind.CHILD, ended_on__isnull=True,
                                                  relative__isnull=False).values_list("relative_id", flat=True)
        child = next((p for p in Person.objects.filter(pk__in=list(child_ids), status=PersonStatus.ALIVE)
                      .order_by("-birth_date")
                      if (services.age_on(p, timezone.localdate()) or 99) < services.CHILD_AGE_LIMIT), None)
        spouse_rel = FamilyRelation.objects.filter(person=an, kind=RelationKind.SPOUSE, ended_on__isnull=True,
                                                   relative__isnull=False).select_related("relative").first()
        if child is not None and spouse_rel is not None and spouse_rel.relative is not None:
            mother = spouse_rel.relative
            entry = _ensure(mother, level=2, fallback_phone="0900000003", known=known)
            citizens.append({**entry, "description": f"Người giám hộ mức độ 2, quản lý tài khoản của con "
                                                     f"{child.full_name} ({child.id_number})"})
            guardian = CitizenAccount.objects.get(user__username=mother.id_number)
            ward = CitizenAccount.objects.filter(person=child).first()
            if ward is None:
                user = get_user_model()(username=child.id_number)
                user.set_unusable_password()
                user.save()
                ward = CitizenAccount.objects.create(user=user, person=child, level=1, phone=guardian.phone,
                                                     phone_verified_at=timezone.now())
            Guardianship.objects.get_or_create(guardian=guardian, ward=ward, ended_on=None,
                                               defaults={"kind": GuardianshipKind.PARENT,
                                                         "valid_from": timezone.localdate()})
    fixture_ids = {an.pk} | set(FamilyRelation.objects.filter(person=an).exclude(relative__isnull=True)
                                .values_list("relative_id", flat=True)) if an is not None else set()
    adult = (Person.objects.filter(status=PersonStatus.ALIVE, birth_date__lte=date(2000, 1, 1),
                                   birth_date__gte=date(1950, 1, 1), id_number__regex=r"^[0-9]{12}$")
             .exclude(pk__in=fixture_ids).order_by("id").first())
    if adult is not None:
        entry = _ensure(adult, level=1, fallback_phone="0900000001", known=known)
        citizens.append({**entry, "description": "Công dân mức độ 1 (tự đăng ký trực tuyến)"})
    staff = [a for a in existing if a.get("role") != "citizen"]
    data = json.dumps(staff + citizens, ensure_ascii=False, indent=2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
    path.chmod(0o600)
    return citizens


def format_citizens(citizens: list[dict[str, Any]]) -> str:
    rows = [("Số định danh", "Mật khẩu", "Mã bảo vệ", "Mức", "Điện thoại", "Họ tên / mô tả")]
    rows += [(c["username"], c["password"], c["passcode"], c["level"], c["phone"],
              f"{c['full_name']} — {c['description']}") for c in citizens]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)
