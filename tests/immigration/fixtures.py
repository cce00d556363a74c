"""Shared set-up of the immigration tests: two establishments in two communes, a staff account
linked to the first, guests built from MRZ lines PopID generates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from popid.core.access import Actor
from popid.identity.models import CitizenAccount
from popid.immigration import mrz, services
from tests.conftest import CUA_NAM, HOAN_KIEM

NOW = timezone.make_aware(datetime(2026, 12, 6, 20, 0))


def guest_mrz(number: str = "X1234567", *, nationality: str = "FRA", surname: str = "DUPONT",
              given: str = "MARIE", birth: date = date(1988, 3, 14), expiry: date = date(2030, 5, 1)) -> str:
    line1, line2 = mrz.passport_mrz(document_number=number, surname=surname, given_names=given, birth_date=birth,
                                    sex="F", expiry_date=expiry, issuing_state=nationality, nationality=nationality)
    return f"{line1}\n{line2}"


def make_account(person) -> CitizenAccount:
    user = get_user_model().objects.create_user(username=person.id_number, password="Mat-khau-cong-dan-1")
    return CitizenAccount.objects.create(user=user, person=person, level=2, phone="0912345678")


@pytest.fixture(name="hotels")
def hotels_fixture(db, family):
    admin = Actor.system("test-admin")
    hotel = services.register_establishment(actor=admin, code="ks-hoan-kiem", name="Khách sạn Hồ Gươm",
                                            commune_code=HOAN_KIEM, address="1 Hàng Khay")
    other = services.register_establishment(actor=admin, code="nn-cua-nam", name="Nhà nghỉ Cửa Nam",
                                            commune_code=CUA_NAM, address="5 Điện Biên Phủ", kind="guest_house")
    receptionist = make_account(family["an"])
    services.add_staff(actor=admin, establishment=hotel, id_number=family["an"].id_number)
    other_staff = make_account(family["binh"])
    services.add_staff(actor=admin, establishment=other, id_number=family["binh"].id_number)
    return {"hotel": hotel, "other": other, "staff": receptionist, "other_staff": other_staff,
            "declarant": services.Declarant.staff(receptionist),
            "other_declarant": services.Declarant.staff(other_staff)}


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)
