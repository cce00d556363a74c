"""Every officer-facing read of personal data leaves an access record.

The API part is generated: every GET operation declared with an officer read permission
(``core.permissions``) whose path names one object (a person, household, dossier, licence) is
called by the officer of the unit on an object of the unit; a 200 without a new access record for
the object's person fails. The console part lists the officer pages that show one person's data.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from popid.core.access import Actor
from popid.core.models import AccessRecord
from popid.core.permissions import Permission, declared_permission
from popid.documents import services as documents
from popid.services import dossiers
from popid.services.errors import DossierNotFound
from popid.services.selectors import access_dossier_for_officer
from tests.conftest import bearer
from tests.core.test_authorisation_matrix import OPS

OFFICER_READS = {Permission.REGISTRY_READ, Permission.DOSSIER_READ, Permission.DOCUMENT_READ, Permission.QUALITY_READ}
OBJECT_PARAMS = ("{id_number}", "{code}", "{number}")
READS = [op for op in OPS if op.method == "GET" and declared_permission(op.handler) in OFFICER_READS
         and any(p in op.path for p in OBJECT_PARAMS)]


@pytest.fixture
def objects(family, officer_hoan_kiem):
    actor = Actor.for_user(officer_hoan_kiem)
    an = family["an"]
    dossier = dossiers.register_counter_dossier(actor=actor, procedure_code="residence_confirmation",
                                                subject_id_number=an.id_number, data={}, attachments=[])
    dossier = dossiers.claim(actor=actor, code=dossier.code, expected_version=dossier.version)
    dossier = dossiers.approve(actor=actor, code=dossier.code, expected_version=dossier.version)  # CT07 issued
    licence = documents.issue_licence(
        actor=Actor.system("test-admin"), person=an, number="010111222333",
        classes=[{"class": "B", "issued_on": "2015-03-01", "valid_until": "2035-03-01"}],
        issued_on=date(2015, 3, 1), valid_until=date(2035, 3, 1), issued_by="CSGT Hà Nội")
    household = an.household_memberships.get(left_on__isnull=True).household
    return {"an": an, "dossier": dossier, "licence": licence, "household": household}


def _url(path: str, objects) -> str:
    code = objects["household"].code if path.startswith("/api/v1/households/") else objects["dossier"].code
    return (path.replace("{id_number}", objects["an"].id_number).replace("{code}", code)
            .replace("{number}", objects["licence"].number))


def test_the_generated_list_covers_every_kind_of_object():
    paths = {op.path for op in READS}
    assert {"/api/v1/persons/{id_number}", "/api/v1/households/{code}", "/api/v1/services/officer/dossiers/{code}",
            "/api/v1/documents/licences/{number}"} <= paths


@pytest.mark.parametrize("op", READS, ids=[op.id for op in READS])
def test_officer_api_read_records_the_access(op, objects, officer_hoan_kiem):
    client = Client(headers=bearer(officer_hoan_kiem))
    before = AccessRecord.objects.filter(person_id_number=objects["an"].id_number, actor="cb.hoankiem").count()
    response = client.get(_url(op.path, objects))
    assert response.status_code == 200, (op.id, response.content[:300])
    after = AccessRecord.objects.filter(person_id_number=objects["an"].id_number, actor="cb.hoankiem").count()
    assert after > before, f"{op.id} returned personal data without an access record"


CONSOLE_PAGES = [
    "/persons/{id_number}/",
    "/households/{household}/",
    "/services/dossiers/{dossier}/",
    "/services/dossiers/{dossier}/ct07.pdf",
    "/giay-to/gplx/{licence}/",
    "/giay-to/cong-dan/{id_number}/",
    "/tai-khoan/can-bo/{id_number}/",
]


@pytest.mark.parametrize("page", CONSOLE_PAGES)
def test_officer_console_page_records_the_access(page, objects, client, officer_hoan_kiem):
    client.force_login(officer_hoan_kiem)
    url = (page.replace("{id_number}", objects["an"].id_number).replace("{household}", objects["household"].code)
           .replace("{dossier}", objects["dossier"].code).replace("{licence}", objects["licence"].number))
    before = AccessRecord.objects.filter(person_id_number=objects["an"].id_number, channel="console").count()
    response = client.get(url)
    assert response.status_code == 200, url
    assert AccessRecord.objects.filter(person_id_number=objects["an"].id_number,
                                       channel="console").count() > before, url


def test_dossier_selector_hides_other_units_and_records_nothing_for_them(objects, officer_hcm, officer_hoan_kiem):
    from popid.core.access import AccessContext

    code = objects["dossier"].code
    before = AccessRecord.objects.count()
    with pytest.raises(DossierNotFound):
        access_dossier_for_officer(ctx=AccessContext(actor=Actor.for_user(officer_hcm), purpose="x"), code=code)
    assert AccessRecord.objects.count() == before
    ctx = AccessContext(actor=Actor.for_user(officer_hoan_kiem), purpose="Kiểm tra", channel="console")
    assert access_dossier_for_officer(ctx=ctx, code=code).pk == objects["dossier"].pk
    record = AccessRecord.objects.latest("pk")
    assert record.person_id_number == objects["an"].id_number and record.purpose == "Kiểm tra"
    assert "dossier_data" in record.fields
