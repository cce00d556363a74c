"""`popid staff`: accounts bound to real units, tokens that authenticate the API."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from popid.core.models import StaffRole

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("staff", *args, stdout=out)
    return out.getvalue()


def test_create_officer_and_use_a_token():
    output = run("create", "cb.cuanam", "--role", "officer", "--level", "commune", "--unit", "00073")
    assert "password:" in output
    role = StaffRole.objects.get(user__username="cb.cuanam")
    assert role.unit_name == "Công an phường Cửa Nam"
    token = run("token", "cb.cuanam").strip()
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/persons", {"name": "an"})
    assert response.status_code == 200


@pytest.mark.parametrize("args", [
    ("create", "x", "--role", "officer", "--level", "commune", "--unit", "99999"),
    ("create", "y", "--role", "officer", "--level", "nation", "--unit", "01"),
    ("token", "nobody"),
])
def test_bad_arguments_are_refused(args):
    with pytest.raises(CommandError):
        run(*args)
    assert not StaffRole.objects.exists()
