"""Dossier workflow and API: submit → claim → approve updates the registry in the same
transaction; bad transitions, jurisdiction, optimistic locking, idempotency, entitlement."""

from __future__ import annotations

import base64
import threading
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.models import AccessRecord
from popid.identity.models import CitizenAccount, Guardianship
from popid.registry.models import HistoryEntry, Residence, ResidenceKind
from popid.services import dossiers
from popid.services.calendar import LOCAL_TZ
from popid.services.errors import DossierNotFound, NotEntitled, StaleDossier, TransitionNotAllowed
from popid.services.models import Dossier, DossierEvent, DossierState
from popid.services.selectors import officer_queue
from tests.conftest import CUA_NAM, HOAN_KIEM, bearer

PDF = b"%PDF-1.4\n% test\n"
API = "/api/v1/services"


def make_account(person, *, level: int = 1) -> CitizenAccount:
    user = get_user_model().objects.create_user(username=person.id_number, password="Mat-khau-thu-nghiem-1")
    return CitizenAccount.objects.create(user=user, person=person, level=level, phone="0912345678")


def citizen_login(client, account: CitizenAccount) -> None:
    client.force_login(account.user)
    session = client.session
    session["popid_acr"] = "level-2" if account.level == 2 else "level-1"
    session.save()


def attachment(content: bytes = PDF, content_type: str = "application/pdf", kind: str = "proof_of_residence"):
    return {"kind": kind, "name": "hop-dong.pdf", "content_type": content_type,
            "content_base64": base64.b64encode(content).decode()}


def temp_data(**overrides):
    start = date.today()
    data = {"commune_code": HOAN_KIEM, "address": "5 Hàng Gai", "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=365)).isoformat(), "reason": "Đi làm"}
    data.update(overrides)
    return data


def submit(client, *, key: str = "", procedure: str = "temporary_residence", data=None, files=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"{API}/dossiers", {"procedure": procedure, "data": temp_data() if data is None else data,
                                           "attachments": [attachment()] if files is None else files},
                       content_type="application/json", headers=headers)


@pytest.fixture
def an_account(family):
    return make_account(family["an"])


@pytest.fixture
def an_client(client, an_account):
    citizen_login(client, an_account)
    return client


def _submitted(account, **data) -> Dossier:
    dossier, _created = dossiers.submit_dossier(account=account, procedure_code="temporary_residence",
                                                data=temp_data(**data), attachments=[dossiers.IncomingFile(
                                                    "proof_of_residence", "a.pdf", PDF, "application/pdf")])
    return dossier


# --- the happy path ----------------------------------------------------------------------------
def test_procedure_detail_is_prefilled_from_the_registry_and_the_read_is_recorded(an_client, family):
    response = an_client.get(f"{API}/procedures/temporary_residence")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["prefilled"]["id_number"] == family["an"].id_number
    assert body["prefilled"]["full_name"] == "Nguyễn Văn An"
    assert body["prefilled"]["permanent_address"] == "12 Hàng Bạc"
    assert body["fee"] == {"in_person": 15000, "online": 7000, "currency": "VND"}
    assert AccessRecord.objects.filter(person_id_number=family["an"].id_number, channel="portal").exists()


def test_catalogue_is_public_and_lists_every_procedure(client):
    response = client.get(f"{API}/procedures")
    assert response.status_code == 200
    assert "stay_notification" in {p["code"] for p in response.json()}


def test_submit_claim_approve_updates_registry_and_records_events(an_client, family, officer_hoan_kiem):
    response = submit(an_client, key="k-1")
    assert response.status_code == 201, response.content
    body = response.json()
    code = body["code"]
    assert body["state"] == "submitted" and body["fee"] == 7000 and body["commune_code"] == HOAN_KIEM
    assert body["data"]["full_name"] == "Nguyễn Văn An"  # pre-filled, not typed
    assert body["attachments"][0]["size"] == len(PDF)
    staff = bearer(officer_hoan_kiem)
    queue = an_client.get(f"{API}/officer/queue", headers=staff).json()
    assert [row["code"] for row in queue] == [code] and queue[0]["deadline_status"] in {"on_time", "due_soon"}
    response = an_client.post(f"{API}/officer/dossiers/{code}/claim", {"version": body["version"]},
                              content_type="application/json", headers=staff)
    assert response.status_code == 200, response.content
    claimed = response.json()
    response = an_client.post(f"{API}/officer/dossiers/{code}/approve", {"version": claimed["version"]},
                              content_type="application/json", headers=staff)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "approved"
    residence = Residence.objects.get(person=family["an"], kind=ResidenceKind.TEMPORARY, ended_on__isnull=True)
    assert residence.address == "5 Hàng Gai" and residence.commune_code == HOAN_KIEM
    assert HistoryEntry.objects.filter(person=family["an"], command="register_temporary_residence",
                                       reason__contains=code).exists()
    events = list(DossierEvent.objects.filter(dossier__code=code).values_list("from_state", "to_state", "actor"))
    assert events == [("", "submitted", family["an"].id_number), ("submitted", "in_review", "cb.hoankiem"),
                      ("in_review", "approved", "cb.hoankiem")]
    tracked = an_client.get(f"{API}/dossiers/{code}").json()
    assert tracked["state"] == "approved" and len(tracked["events"]) == 3


def test_idempotent_resubmission_returns_the_same_dossier(an_client):
    first = submit(an_client, key="same-key")
    second = submit(an_client, key="same-key")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["code"] == second.json()["code"]
    assert Dossier.objects.count() == 1


# --- bad input ---------------------------------------------------------------------------------
def test_missing_required_field_is_422_naming_the_field(an_client):
    data = temp_data()
    del data["address"]
    response = submit(an_client, data=data)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert "data.address" in {e["field"] for e in response.json()["errors"]}
    assert Dossier.objects.count() == 0


@pytest.mark.parametrize(("files", "reason"), [
    ([], "required"),
    ([attachment(b"MZ\x90\x00 not a pdf")], "file_type"),
    ([attachment(PDF, "text/html")], "file_type"),
])
def test_bad_attachments_are_refused(an_client, files, reason):
    response = submit(an_client, files=files)
    assert response.status_code == 422
    assert reason in {e["reason"] for e in response.json()["errors"]}
    assert Dossier.objects.count() == 0


def test_attachment_over_the_procedure_limit_is_refused(an_account):
    big = dossiers.IncomingFile("proof_of_residence", "big.pdf", b"%PDF-" + b"x" * (5 * 1024 * 1024), "application/pdf")
    with pytest.raises(ValidationFailed) as info:
        dossiers.submit_dossier(account=an_account, procedure_code="temporary_residence", data=temp_data(),
                                attachments=[big])
    assert info.value.errors()[0]["reason"] == "too_large"
    assert Dossier.objects.count() == 0


def test_request_body_over_the_server_limit_is_413_problem(an_client):
    response = submit(an_client, files=[attachment(b"%PDF-" + b"x" * (3 * 1024 * 1024))])
    assert response.status_code == 413 and response["Content-Type"].startswith("application/problem+json")


def test_level1_account_may_not_submit_a_level2_procedure(an_client):
    data = {"commune_code": CUA_NAM, "address": "1 Tràng Thi", "valid_from": date.today().isoformat()}
    response = submit(an_client, procedure="permanent_residence", data=data)
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"


def test_only_a_guardian_may_submit_for_a_ward(family, an_account):
    khoi = make_account(family["khoi"])
    with pytest.raises(NotEntitled):
        dossiers.submit_dossier(account=an_account, procedure_code="residence_confirmation", data={},
                                on_behalf_of=khoi)
    Guardianship.objects.create(guardian=an_account, ward=khoi, kind="parent", valid_from=date(2018, 9, 2))
    dossier, created = dossiers.submit_dossier(account=an_account, procedure_code="residence_confirmation",
                                               data={"purpose": "Nhập học"}, on_behalf_of=khoi)
    assert created and dossier.subject == family["khoi"] and dossier.on_behalf_of == khoi
    assert dossier.data["id_number"] == family["khoi"].id_number
    with pytest.raises(NotEntitled):  # household split does not allow guardians
        dossiers.submit_dossier(account=an_account, procedure_code="household_split", data={}, on_behalf_of=khoi)


def test_unauthenticated_citizen_gets_401(client):
    assert submit(client).status_code == 401


# --- workflow rules ----------------------------------------------------------------------------
def test_transitions_the_workflow_does_not_allow_are_409(an_client, an_account, officer_hoan_kiem):
    dossier = _submitted(an_account)
    staff = bearer(officer_hoan_kiem)
    response = an_client.post(f"{API}/officer/dossiers/{dossier.code}/approve", {"version": dossier.version},
                              content_type="application/json", headers=staff)
    assert response.status_code == 409 and response.json()["code"] == "transition_not_allowed"
    response = an_client.post(f"{API}/officer/dossiers/{dossier.code}/reject", {"version": 1, "reason": " "},
                              content_type="application/json", headers=staff)
    assert response.status_code == 422
    response = an_client.post(f"{API}/officer/dossiers/{dossier.code}/reject",
                              {"version": 1, "reason": "Giấy tờ không hợp lệ"},
                              content_type="application/json", headers=staff)
    assert response.status_code == 200 and response.json()["state"] == "rejected"
    response = an_client.post(f"{API}/dossiers/{dossier.code}/cancel", {"version": 2},
                              content_type="application/json")
    assert response.status_code == 409
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.REJECTED


def test_officer_outside_the_unit_sees_nothing(an_client, an_account, officer_hcm):
    dossier = _submitted(an_account)
    staff = bearer(officer_hcm)
    assert an_client.get(f"{API}/officer/queue", headers=staff).json() == []
    response = an_client.post(f"{API}/officer/dossiers/{dossier.code}/claim", {"version": 1},
                              content_type="application/json", headers=staff)
    assert response.status_code == 404
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.SUBMITTED


def test_stale_version_exactly_one_of_two_approvals_wins(an_account, officer_hoan_kiem, family):
    other = get_user_model().objects.create_user(username="cb.hoankiem2", password="x")
    from popid.core.models import StaffRole

    StaffRole.objects.create(user=other, role="officer", level="commune", unit_code=HOAN_KIEM, unit_name="CA")
    first, second = Actor.for_user(officer_hoan_kiem), Actor.for_user(other)
    dossier = dossiers.claim(actor=first, code=_submitted(an_account).code, expected_version=1)
    dossiers.approve(actor=first, code=dossier.code, expected_version=dossier.version)
    with pytest.raises((StaleDossier, TransitionNotAllowed)):
        dossiers.approve(actor=second, code=dossier.code, expected_version=dossier.version)
    assert Residence.objects.filter(person=family["an"], kind=ResidenceKind.TEMPORARY).count() == 1
    # same state, old version: the stale version is named
    fresh = _submitted(an_account, address="7 Hàng Gai")
    dossiers.claim(actor=first, code=fresh.code, expected_version=1)
    with pytest.raises(StaleDossier):
        dossiers.reject(actor=second, code=fresh.code, reason="x", expected_version=1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_on_postgresql_exactly_one_wins(an_account, officer_hoan_kiem, family):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    actor = Actor.for_user(officer_hoan_kiem)
    dossier = dossiers.claim(actor=actor, code=_submitted(an_account).code, expected_version=1)
    barrier, results = threading.Barrier(2), []

    def approve() -> None:
        try:
            barrier.wait()
            dossiers.approve(actor=actor, code=dossier.code, expected_version=dossier.version)
            results.append("ok")
        except (StaleDossier, TransitionNotAllowed):
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    assert Residence.objects.filter(person=family["an"], kind=ResidenceKind.TEMPORARY).count() == 1
    assert DossierEvent.objects.filter(dossier=dossier, to_state="approved").count() == 1


def test_failing_registry_command_leaves_dossier_unchanged(an_account, actor_hoan_kiem, family):
    too_long = (date.today() + timedelta(days=3 * 365)).isoformat()
    dossier = dossiers.claim(actor=actor_hoan_kiem, code=_submitted(an_account, valid_until=too_long).code)
    with pytest.raises(Exception) as info:
        dossiers.approve(actor=actor_hoan_kiem, code=dossier.code, expected_version=dossier.version)
    assert getattr(info.value, "field", None) == "valid_until"
    after = Dossier.objects.get(pk=dossier.pk)
    assert (after.state, after.version) == (DossierState.IN_REVIEW, dossier.version)
    assert not DossierEvent.objects.filter(dossier=dossier, to_state="approved").exists()
    assert not Residence.objects.filter(person=family["an"], kind=ResidenceKind.TEMPORARY).exists()


def test_supplement_round_trip_and_cancel(an_client, an_account, actor_hoan_kiem):
    dossier = dossiers.claim(actor=actor_hoan_kiem, code=_submitted(an_account).code)
    with pytest.raises(ValidationFailed):
        dossiers.request_supplement(actor=actor_hoan_kiem, code=dossier.code, note="")
    dossier = dossiers.request_supplement(actor=actor_hoan_kiem, code=dossier.code, note="Thiếu hợp đồng thuê",
                                          expected_version=dossier.version)
    response = an_client.post(f"{API}/dossiers/{dossier.code}/supplement",
                              {"version": dossier.version, "data": {"address": "5A Hàng Gai"},
                               "attachments": [attachment(kind="proof_of_residence")]},
                              content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "in_review" and body["data"]["address"] == "5A Hàng Gai"
    assert len(body["attachments"]) == 2
    response = an_client.post(f"{API}/dossiers/{dossier.code}/cancel", {"version": body["version"]},
                              content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"


def test_another_citizen_cannot_see_or_cancel_a_dossier(client, family, an_account):
    dossier = _submitted(an_account)
    binh = make_account(family["binh"])
    citizen_login(client, binh)
    assert client.get(f"{API}/dossiers/{dossier.code}").status_code == 404
    with pytest.raises(DossierNotFound):
        dossiers.cancel(account=binh, code=dossier.code)


def test_queue_deadline_colours(an_account, actor_hoan_kiem):
    dossier = _submitted(an_account)
    Dossier.objects.filter(pk=dossier.pk).update(deadline=date.today() - timedelta(days=10))
    rows = officer_queue(actor=actor_hoan_kiem)
    assert [r.deadline_status for r in rows] == ["overdue"]
    Dossier.objects.filter(pk=dossier.pk).update(deadline=date.today() + timedelta(days=40))
    assert officer_queue(actor=actor_hoan_kiem)[0].deadline_status == "on_time"


def test_counter_dossier_by_officer_in_their_unit(client, family, officer_hoan_kiem, actor_hcm):
    response = client.post(f"{API}/officer/counter",
                           {"procedure": "residence_confirmation", "subject_id_number": family["binh"].id_number,
                            "data": {"purpose": "Vay vốn"}},
                           content_type="application/json", headers=bearer(officer_hoan_kiem))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "counter" and body["fee"] == 0 and body["commune_code"] == HOAN_KIEM
    with pytest.raises((PermissionDenied, DossierNotFound, Exception)):
        dossiers.register_counter_dossier(actor=actor_hcm, procedure_code="residence_confirmation",
                                          subject_id_number=family["binh"].id_number, data={})


def test_stay_notification_after_23h_is_marked_late(an_account):
    arrival = datetime(2026, 11, 23, 20, 0, tzinfo=LOCAL_TZ)
    data = {"commune_code": HOAN_KIEM, "address": "12 Hàng Bạc", "guest_name": "John Smith",
            "guest_document_number": "X1234567", "reason": "Du lịch", "arrival": arrival.isoformat(),
            "stay_until": "2026-11-26"}
    on_time, _ = dossiers.submit_dossier(account=an_account, procedure_code="stay_notification", data=data,
                                         now=datetime(2026, 11, 23, 22, 0, tzinfo=LOCAL_TZ))
    late, _ = dossiers.submit_dossier(account=an_account, procedure_code="stay_notification", data=data,
                                      now=datetime(2026, 11, 23, 23, 30, tzinfo=LOCAL_TZ))
    assert (on_time.late_notification, late.late_notification) == (False, True)
