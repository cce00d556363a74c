"""`popid seed` adds demo citizens with logins in demo-accounts.json (staff list kept)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client

from popid.identity.models import CitizenAccount, Guardianship


@pytest.mark.django_db
def test_seed_creates_level1_level2_and_guardian_citizens(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed", persons=300, seed=3, no_progress=True)
    entries = json.loads((tmp_path / "demo-accounts.json").read_text(encoding="utf-8"))
    citizens = [e for e in entries if e["role"] == "citizen"]
    assert any(e["role"] == "officer" for e in entries)
    assert sorted(e["level"] for e in citizens) == ["1", "2", "2"]
    an = next(e for e in citizens if e["full_name"] == "Nguyễn Văn An")
    account = CitizenAccount.objects.get(user__username=an["username"])
    assert account.is_level2 and account.user.check_password(an["password"])
    link = Guardianship.objects.get()
    assert link.guardian.user.get_username() in {e["username"] for e in citizens}
    assert link.ward.person.full_name == "Nguyễn Minh Khang"
    response = Client().post("/tai-khoan/dang-nhap/", {"id_number": an["username"], "password": an["password"]})
    assert response["Location"] == "/tai-khoan/xac-thuc-otp/"
    call_command("seed", persons=300, if_empty=True, no_progress=True)
    again = json.loads((tmp_path / "demo-accounts.json").read_text(encoding="utf-8"))
    assert {e["username"]: e["password"] for e in again} == {e["username"]: e["password"] for e in entries}
