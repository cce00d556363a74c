"""An unpaid fine past its deadline holds the vehicle's registration changes (change of owner or
of address refuses with the reason, nothing changed); paid or not yet due, the change goes
through. The owner sees the outstanding fines in the portal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from popid.core.access import Actor
from popid.documents import services as documents
from popid.documents.errors import VehicleOnHold
from popid.documents.models import DocumentEvent, VehicleRegistration
from popid.traffic import services
from popid.traffic.models import Decision, DecisionState
from tests.services.test_services_payments import citizen_login, make_account
from tests.traffic.conftest import ingest


@pytest.fixture
def officer(officer_hoan_kiem) -> Actor:
    return Actor.for_user(officer_hoan_kiem)


@pytest.fixture
def overdue(vehicles, officer) -> Decision:
    make_account(vehicles["moto"].owner)
    decision = services.confirm_detection(actor=officer, pk=ingest().pk, amount=5_000_000, reason="Ảnh rõ")
    Decision.objects.filter(pk=decision.pk).update(due_on=timezone.localdate() - timedelta(days=3))
    decision.refresh_from_db()
    return decision


def test_overdue_fine_refuses_a_change_of_owner_with_the_reason(overdue, officer, family, vehicles):
    with pytest.raises(VehicleOnHold) as refused:
        documents.change_vehicle_registration(actor=officer, plate="29B1-12345", reason="Hợp đồng mua bán số 12",
                                              new_owner_id_number=family["binh"].id_number)
    assert overdue.number in str(refused.value.detail) and "quá hạn" in str(refused.value.detail)
    moto = VehicleRegistration.objects.get(pk=vehicles["moto"].pk)
    assert moto.owner == vehicles["moto"].owner and moto.version == 1
    assert not DocumentEvent.objects.filter(document_kind="vehicle_registration").exists()
    with pytest.raises(VehicleOnHold):  # a change of address is a registration change too
        documents.change_vehicle_registration(actor=officer, plate="29B1-12345", reason="Chuyển nơi ở",
                                              new_address="12 Hàng Bài, Hoàn Kiếm, Hà Nội")
    # the other vehicle of the same owner is not held
    car = documents.change_vehicle_registration(actor=officer, plate="30A-678.90", reason="Chuyển nơi ở",
                                                new_address="12 Hàng Bài, Hoàn Kiếm, Hà Nội")
    assert car.owner_address.startswith("12 Hàng Bài") and car.version == 2


def test_fine_not_yet_due_or_paid_does_not_hold(vehicles, officer, family):
    decision = services.confirm_detection(actor=officer, pk=ingest().pk, amount=5_000_000, reason="Ảnh rõ")
    assert decision.due_on >= timezone.localdate()
    moto = documents.change_vehicle_registration(actor=officer, plate="29B1-12345", reason="Hợp đồng mua bán số 12",
                                                 new_owner_id_number=family["binh"].id_number, new_plate="29B1-55555")
    assert moto.owner == family["binh"] and moto.plate == "29B1-55555"
    event = DocumentEvent.objects.get(document_kind="vehicle_registration")
    assert event.action == "transfer" and event.person_id_number == family["binh"].id_number


def test_paid_overdue_fine_releases_the_hold(overdue, officer, family):
    Decision.objects.filter(pk=overdue.pk).update(state=DecisionState.PAID)
    moto = documents.change_vehicle_registration(actor=officer, plate="29B1-12345", reason="Hợp đồng mua bán",
                                                 new_owner_id_number=family["binh"].id_number)
    assert moto.owner == family["binh"]


@pytest.mark.parametrize(("changes", "field"), [
    ({}, "new_owner_id_number"),
    ({"new_owner_id_number": "999999999999"}, "new_owner_id_number"),
    ({"new_address": "x" * 301}, "new_address"),
    ({"new_address": "Hàng Bài", "new_plate": "29B1-55555"}, "new_plate"),
])
def test_bad_registration_change_is_refused(vehicles, officer, changes, field):
    with pytest.raises(documents.ValidationFailed) as refused:
        documents.change_vehicle_registration(actor=officer, plate="29B1-12345", reason="x", **changes)
    assert refused.value.errors()[0]["field"] == field
    assert VehicleRegistration.objects.get(pk=vehicles["moto"].pk).version == 1


def test_seller_cannot_sell_to_himself_and_officer_outside_unit_sees_nothing(vehicles, officer, officer_hcm):
    with pytest.raises(documents.ValidationFailed):
        documents.change_vehicle_registration(actor=officer, plate="29B1-12345", reason="x",
                                              new_owner_id_number=vehicles["moto"].owner.id_number)
    with pytest.raises(documents.DocumentNotFound):
        documents.change_vehicle_registration(actor=Actor.for_user(officer_hcm), plate="29B1-12345", reason="x",
                                              new_address="Hàng Bài")


def test_officer_page_shows_the_hold_and_refuses(overdue, officer_hoan_kiem, client, family):
    client.force_login(officer_hoan_kiem)
    page = client.get(reverse("documents:vehicle_detail", args=["29B1-12345"]))
    assert page.status_code == 200 and b'id="vehicle-holds"' in page.content and overdue.number.encode() in page.content
    refused = client.post(reverse("documents:vehicle_change", args=["29B1-12345"]),
                          {"new_owner_id_number": family["binh"].id_number, "reason": "Hợp đồng", "version": 1})
    assert refused.status_code == 409 and overdue.number.encode() in refused.content
    ok = client.post(reverse("documents:vehicle_change", args=["30A-678.90"]),
                     {"new_address": "12 Hàng Bài", "reason": "Chuyển nơi ở", "version": 1})
    assert ok.status_code == 302


def test_citizen_portal_lists_outstanding_fines(overdue, client):
    citizen_login(client, overdue.owner.identity_accounts.get())
    page = client.get(reverse("traffic:my_fines"))
    assert page.status_code == 200 and b'id="outstanding"' in page.content
    alert = page.content.decode().split('id="outstanding"')[1].split("</div>")[0]
    assert str(overdue.amount_due()) in re.sub(r"[.,\s\xa0]", "", alert) and overdue.number in alert
