"""Officer API: lookups, search, commands, and every kind of bad input answered with RFC 9457
problem JSON that names the field, with nothing written."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from popid.core.models import AccessRecord
from popid.registry.models import HistoryEntry, Person
from tests.conftest import HOAN_KIEM, bearer

pytestmark = pytest.mark.django_db
API = "/api/v1"


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["title"]
    return body


@pytest.fixture
def api(officer_hoan_kiem) -> Client:
    return Client(headers=bearer(officer_hoan_kiem))


def test_unauthenticated_and_forged_tokens_get_401(family):
    problem(Client().get(f"{API}/persons/{family['an'].id_number}"), 401)
    problem(Client(headers={"Authorization": "Bearer pst_forged"}).get(f"{API}/persons/{family['an'].id_number}"), 401)


def test_unknown_paths_are_problem_json(api):
    problem(api.get(f"{API}/no-such-thing"), 404)
    problem(api.get("/api/v2/persons"), 404)


def test_openapi_document_lists_the_registry_operations():
    doc = Client().get(f"{API}/openapi.json").json()
    assert "/api/v1/persons/{id_number}" in doc["paths"]
    assert "/api/v1/persons/{id_number}/corrections" in doc["paths"]


def test_lookup_returns_detail_and_records_the_access(api, family):
    an = family["an"]
    response = api.get(f"{API}/persons/{an.id_number}", headers={"X-Purpose": "Giải quyết hồ sơ CT01"})
    assert response.status_code == 200
    body = response.json()
    assert body["person"]["full_name"] == "Nguyễn Văn An"
    assert body["person"]["ethnicity"] == "Kinh"
    assert body["household"]["head_id_number"] == an.id_number
    assert {m["full_name"] for m in body["household"]["members"]} == {"Nguyễn Văn An", "Trần Thị Bình",
                                                                      "Nguyễn Minh Khôi"}
    assert any(r["kind"] == "permanent" and r["commune_code"] == HOAN_KIEM for r in body["residences"])
    record = AccessRecord.objects.get(person_id_number=an.id_number)
    assert record.actor == "cb.hoankiem" and record.purpose == "Giải quyết hồ sơ CT01"


@pytest.mark.parametrize("bad", ["00109052273X", "0010905227381", "１２３"])
def test_malformed_id_number_names_the_field(api, bad):
    body = problem(api.get(f"{API}/persons/{bad}"), 422)
    assert body["errors"][0]["field"] == "id_number"


def test_short_number_that_is_not_stored_is_not_found(api):
    """All digits, at most 12: valid by the published pattern ^[0-9]{1,12}$ (a malformed number
    kept in the registry stays reachable), so one that is not stored is 404, not 422."""
    body = problem(api.get(f"{API}/persons/123"), 404)
    assert body["code"] == "person_not_found" and body["errors"][0]["field"] == "id_number"


def test_other_jurisdiction_looks_exactly_like_missing(family, officer_hcm):
    client = Client(headers=bearer(officer_hcm))
    hidden = problem(client.get(f"{API}/persons/{family['an'].id_number}"), 404)
    missing = problem(client.get(f"{API}/persons/001090999999"), 404)
    assert hidden["code"] == missing["code"] == "person_not_found"
    assert not AccessRecord.objects.exists()


def test_search_ignores_accents_and_case(api, family):
    body = api.get(f"{API}/persons", {"name": "NGUYEN van an", "birth_year": 1990}).json()
    assert [p["id_number"] for p in body["items"]] == [family["an"].id_number]
    prefix = api.get(f"{API}/persons", {"name": "nguyễn"}).json()
    assert prefix["total"] == 2
    problem(api.get(f"{API}/persons", {"name": "x"}), 422)
    problem(api.get(f"{API}/persons", {"name": "an", "birth_year": "abc"}), 422)


def test_history_lists_commands(api, family):
    body = api.get(f"{API}/persons/{family['an'].id_number}/history").json()
    assert {"register_birth", "register_permanent_residence", "record_marriage"} <= {
        i["command"] for i in body["items"]}


def _correction(person: Person, **overrides) -> dict:
    return {"changes": {"hometown": "Thái Bình"}, "reason": "Sai quê quán", "legal_ref": "Luật Căn cước 2023",
            "version": person.version, **overrides}


def test_correction_then_stale_version_conflict(api, family):
    an = family["an"]
    url = f"{API}/persons/{an.id_number}/corrections"
    ok = api.post(url, _correction(an), content_type="application/json")
    assert ok.status_code == 200 and ok.json()["hometown"] == "Thái Bình"
    assert ok.json()["version"] == an.version + 1
    body = problem(api.post(url, _correction(an, changes={"hometown": "Huế"}), content_type="application/json"), 409)
    assert body["code"] == "stale_version" and body["current_version"] == an.version + 1
    assert Person.objects.get(pk=an.pk).hometown == "Thái Bình"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"changes": {"hometown": "Huế", "sex": "F"}}, "changes.sex"),  # unknown field
        ({"changes": {"ethnicity_code": "99"}}, "ethnicity_code"),  # unknown code
        ({"changes": {"birth_date": "1990-02-30"}}, "changes.birth_date"),  # impossible date
        ({"version": "two"}, "version"),  # wrong type
        ({"colour": "blue"}, "colour"),  # unknown top-level field
        ({"legal_ref": ""}, "legal_ref"),  # missing legal reference
    ],
)
def test_bad_corrections_name_the_field_and_change_nothing(api, family, payload, field):
    an = family["an"]
    history = HistoryEntry.objects.count()
    body = problem(api.post(f"{API}/persons/{an.id_number}/corrections", _correction(an, **payload),
                            content_type="application/json"), 422)
    assert field in {e["field"] for e in body["errors"]}
    assert HistoryEntry.objects.count() == history
    assert Person.objects.get(pk=an.pk).version == an.version


def test_malformed_json_and_oversized_body(api, family):
    url = f"{API}/persons/{family['an'].id_number}/corrections"
    assert problem(api.post(url, "{not json", content_type="application/json"), 400)["code"] == "malformed_body"
    body = problem(api.post(url, json.dumps({"reason": "x" * 300_000}), content_type="application/json"), 413)
    assert body["code"] == "payload_too_large"


def test_death_before_birth_and_abolished_commune(api, family):
    an = family["an"]
    body = problem(api.post(f"{API}/persons/{an.id_number}/death", {"died_on": "1980-01-01", "reason": "x"},
                            content_type="application/json"), 422)
    assert body["code"] == "death_before_birth" and body["errors"][0]["field"] == "died_on"
    body = problem(api.post(f"{API}/persons/{an.id_number}/current-residence",
                            {"commune_code": "00001", "address": "1 Phố Cũ", "valid_from": "2025-01-01",
                             "reason": "x"}, content_type="application/json"), 422)
    assert body["code"] == "abolished_commune"
    assert Person.objects.get(pk=an.pk).status == "alive"


def test_register_birth_through_the_api(api, family):
    body = {"full_name": "Nguyễn Thu Trang", "birth_date": "2024-03-08", "sex": "F", "birth_place": "Hà Nội",
            "birth_registration_commune_code": HOAN_KIEM, "hometown": "Nam Định", "ethnicity_code": "01",
            "father_id_number": family["an"].id_number, "mother_id_number": family["binh"].id_number}
    response = api.post(f"{API}/births", body, content_type="application/json")
    assert response.status_code == 201, response.content
    id_number = response.json()["id_number"]
    assert id_number.startswith("00132") and Person.objects.get(id_number=id_number).commune_code == HOAN_KIEM
    body["mother_id_number"] = "001192000000"
    problem(api.post(f"{API}/births", body, content_type="application/json"), 404)


def test_supervisor_reads_but_cannot_write(family, supervisor_nation):
    client = Client(headers=bearer(supervisor_nation))
    an = family["an"]
    assert client.get(f"{API}/persons/{an.id_number}").status_code == 200
    problem(client.post(f"{API}/persons/{an.id_number}/corrections", _correction(an),
                        content_type="application/json"), 403)


def test_session_auth_requires_csrf(family, officer_hoan_kiem):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer_hoan_kiem)
    an = family["an"]
    assert client.get(f"{API}/persons/{an.id_number}").status_code == 200
    response = client.post(f"{API}/persons/{an.id_number}/corrections", _correction(an),
                           content_type="application/json")
    assert response.status_code == 403
    assert Person.objects.get(pk=an.pk).version == an.version


@pytest.mark.django_db(transaction=True)
def test_two_officers_correcting_at_once_one_wins(family, officer_hoan_kiem, officer_hanoi_province):
    """Both read version N and submit together: exactly one 200, one 409, no lost update."""
    an = family["an"]
    url = f"{API}/persons/{an.id_number}/corrections"
    clients = [Client(headers=bearer(officer_hoan_kiem)), Client(headers=bearer(officer_hanoi_province))]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def submit(client: Client, hometown: str) -> None:
        barrier.wait()
        statuses.append(client.post(url, _correction(an, changes={"hometown": hometown}),
                                    content_type="application/json").status_code)
        connection.close()

    threads = [threading.Thread(target=submit, args=(c, h)) for c, h in zip(clients, ["Huế", "Vinh"], strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    person = Person.objects.get(pk=an.pk)
    assert person.version == an.version + 1
    assert HistoryEntry.objects.filter(person=person, command="correct_person").count() == 1


@pytest.mark.parametrize("how", ["query", "body_escape", "body_raw"])
def test_nul_characters_are_refused_everywhere(api, family, how):
    an = family["an"]
    if how == "query":
        response = api.get(f"{API}/persons?name=nguy%00en")
    else:
        payload = json.dumps(_correction(an, reason="Sai\u0000quê"))
        if how == "body_raw":
            payload = payload.replace("\\u0000", "\x00")
        response = api.post(f"{API}/persons/{an.id_number}/corrections", payload, content_type="application/json")
    assert problem(response, 422)["code"] == "invalid_characters"
    assert Person.objects.get(pk=an.pk).version == an.version
