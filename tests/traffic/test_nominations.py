"""Naming the driver: the owner names an ID number, that person confirms in their own account,
and the points come off their licence; bad nominations are refused and change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from popid.core.access import Actor
from popid.documents import services as documents
from popid.documents.models import DrivingLicence
from popid.services.payments.sandbox import SandboxGateway, notice_for
from popid.traffic import services
from popid.traffic.models import DriverNomination
from tests.services.test_services_payments import citizen_login, make_account
from tests.traffic.conftest import ingest


@pytest.fixture
def setting(vehicles, family, officer_hoan_kiem, admin_actor):
    owner = make_account(family["an"])
    binh = make_account(family["binh"])
    binh_licence = documents.issue_licence(actor=admin_actor, person=family["binh"], number="010987654321",
                                           classes=[{"class": "A1", "issued_on": "2012-01-01"}],
                                           issued_on=date(2012, 1, 1), valid_until=None, issued_by="Sở GTVT")
    detection = ingest()
    decision = services.confirm_detection(actor=Actor.for_user(officer_hoan_kiem), pk=detection.pk,
                                          amount=4_000_000, reason="Ảnh rõ")
    return {"owner": owner, "binh": binh, "binh_licence": binh_licence, "decision": decision}


def _pay(decision):
    payment, _url = services.start_fine_payment(number=decision.number, plate=decision.plate_key,
                                                return_url="http://x/ORDER_ID", callback_url="http://127.0.0.1:9/")
    paid = notice_for(SandboxGateway.decide(payment.order_id, paid=True))
    services.process_fine_notice(paid.body, paid.signature)


def test_named_driver_confirms_and_loses_the_points(setting, client, vehicles):
    decision, binh = setting["decision"], setting["binh"]
    citizen_login(client, setting["owner"])
    response = client.post(reverse("traffic:name_driver", args=[decision.number]), {"id_number": binh.id_number})
    assert response.status_code == 302
    nomination = DriverNomination.objects.get()
    citizen_login(client, binh)
    page = client.get(reverse("traffic:my_fines"))
    assert decision.number.encode() in page.content
    assert client.post(reverse("traffic:answer_nomination", args=[nomination.pk]),
                       {"answer": "accept"}).status_code == 302
    _pay(decision)
    assert DrivingLicence.objects.get(pk=setting["binh_licence"].pk).points == 8
    assert DrivingLicence.objects.get(pk=vehicles["licence"].pk).points == 12


def test_declined_nomination_leaves_the_owner_responsible(setting, vehicles):
    decision = setting["decision"]
    nomination = services.name_driver(account=setting["owner"], number=decision.number,
                                      id_number=setting["binh"].id_number)
    services.answer_nomination(account=setting["binh"], pk=nomination.pk, accept=False)
    _pay(decision)
    assert DrivingLicence.objects.get(pk=vehicles["licence"].pk).points == 8
    assert DrivingLicence.objects.get(pk=setting["binh_licence"].pk).points == 12


@pytest.mark.parametrize("who", ["nobody", "no_licence", "self", "car_only"])
def test_naming_someone_without_a_suitable_licence_is_refused(setting, family, admin_actor, client, who):
    decision = setting["decision"]
    if who == "car_only":
        DrivingLicence.objects.filter(pk=setting["binh_licence"].pk).update(
            classes=[{"class": "B", "issued_on": "2015-01-01", "valid_until": "2035-01-01"}])
    id_number = {"nobody": "001099999999", "no_licence": family["grandma"].id_number,
                 "self": family["an"].id_number, "car_only": family["binh"].id_number}[who]
    citizen_login(client, setting["owner"])
    response = client.post(reverse("traffic:name_driver", args=[decision.number]), {"id_number": id_number})
    assert response.status_code == 422 and "driver_not_eligible" not in response.content.decode()
    with pytest.raises(services.DriverNotEligible):
        services.name_driver(account=setting["owner"], number=decision.number, id_number=id_number)
    assert not DriverNomination.objects.exists()


def test_only_the_owner_names_and_only_the_nominee_answers(setting):
    decision = setting["decision"]
    with pytest.raises(services.DecisionNotFound):
        services.name_driver(account=setting["binh"], number=decision.number, id_number=setting["binh"].id_number)
    nomination = services.name_driver(account=setting["owner"], number=decision.number,
                                      id_number=setting["binh"].id_number)
    with pytest.raises(services.DecisionNotFound):
        services.answer_nomination(account=setting["owner"], pk=nomination.pk, accept=True)
    with pytest.raises(services.NominationNotAllowed):  # one open nomination at a time
        services.name_driver(account=setting["owner"], number=decision.number, id_number=setting["binh"].id_number)
