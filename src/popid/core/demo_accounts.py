"""Demo staff accounts for a seeded installation, one per role and level.

Passwords are random (``secrets``) the first time and kept afterwards: an existing demo user
keeps the password recorded in ``DATA_DIR/demo-accounts.json`` (mode 600), so repeated seeds do
not lock people out. A user whose password is not in the file gets a new one.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from popid.core.admin_units import commune, communes_by_province, province
from popid.core.models import Role, ScopeLevel, StaffRole

HCM_COMMUNE_NAME = "Phường Sài Gòn"


@dataclass
class DemoAccount:
    username: str
    password: str
    role: str
    level: str
    unit_code: str
    unit_name: str
    description: str


def _hcm_commune() -> str:
    units = communes_by_province()["79"]
    return next((u.code for u in units if u.name == HCM_COMMUNE_NAME), units[0].code)


def demo_account_specs() -> list[tuple[str, str, str, str, str]]:
    """(username, role, level, unit_code, description) of every demo account."""
    hcm = _hcm_commune()
    return [
        ("quantri", Role.ADMIN, ScopeLevel.NATION, "", "Quản trị hệ thống toàn quốc"),
        ("giamsat.bo", Role.SUPERVISOR, ScopeLevel.NATION, "", "Cán bộ giám sát cấp Bộ (toàn quốc)"),
        ("canbo.hanoi", Role.OFFICER, ScopeLevel.PROVINCE, "01", "Cán bộ Công an Thành phố Hà Nội"),
        ("giamsat.hanoi", Role.SUPERVISOR, ScopeLevel.PROVINCE, "01", "Cán bộ giám sát cấp tỉnh, Hà Nội"),
        ("canbo.hoankiem", Role.OFFICER, ScopeLevel.COMMUNE, "00070", "Cán bộ Công an phường Hoàn Kiếm"),
        (f"canbo.{hcm}", Role.OFFICER, ScopeLevel.COMMUNE, hcm, "Cán bộ Công an xã/phường tại TP Hồ Chí Minh"),
    ]


def accounts_file() -> Path:
    return Path(settings.DATA_DIR) / "demo-accounts.json"


def _read_entries(path: Path) -> list[dict[str, Any]]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _read_passwords(path: Path) -> dict[str, str]:
    try:
        return {a["username"]: a["password"] for a in json.loads(path.read_text(encoding="utf-8"))}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


@transaction.atomic
def ensure_demo_accounts() -> list[DemoAccount]:
    """Create missing demo users with their ``StaffRole``; write and return the login list."""
    user_model = get_user_model()
    path = accounts_file()
    known = _read_passwords(path)
    accounts = []
    for username, role, level, unit_code, description in demo_account_specs():
        unit = commune(unit_code) if level == ScopeLevel.COMMUNE else province(unit_code) if unit_code else None
        unit_name = unit.name if unit else "Toàn quốc"
        user = user_model.objects.filter(username=username).first()
        password = known.get(username) if user is not None else None
        if user is None:
            user = user_model(username=username, is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
        if password is None or not user.check_password(password):
            password = secrets.token_urlsafe(12)
            user.set_password(password)
        user.save()
        StaffRole.objects.update_or_create(
            user=user, defaults={"role": role, "level": level, "unit_code": unit_code, "unit_name": unit_name}
        )
        accounts.append(DemoAccount(username, password, str(role), str(level), unit_code, unit_name, description))
    # Demo citizens (identity accounts, ``"role": "citizen"``) are kept: popid.identity.demo owns them.
    citizens = [a for a in _read_entries(path) if a.get("role") == "citizen"]
    data = json.dumps([asdict(a) for a in accounts] + citizens, ensure_ascii=False, indent=2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
    path.chmod(0o600)
    return accounts


def format_accounts(accounts: list[DemoAccount]) -> str:
    """A plain-text table of logins for the terminal."""
    header = ("Tài khoản", "Mật khẩu", "Vai trò", "Cấp", "Đơn vị")
    rows = [header] + [(a.username, a.password, a.role, a.level, f"{a.unit_code} {a.unit_name}".strip())
                       for a in accounts]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
