"""The citizens' passport procedure: in the catalogue with its 200,000 VND fee and 8 working days,
a portrait checked for format, approval writes the passport record with a valid TD3 MRZ."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from popid.core.access import Actor
from popid.core.errors import DomainError
from popid.immigration import mrz
from popid.immigration.models import Passport
from popid.immigration.services import issue_passport
from popid.services import dossiers
from popid.services.procedures import get_procedure
from tests.services.test_services_citizen import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 60), "white").save(out, format="PNG")
    return out.getvalue()


def _data(person) -> dict:
    return {"id_number": person.id_number, "full_name": person.full_name, "birth_date": person.birth_date.isoformat(),
            "sex": person.sex}


def test_procedure_definition():
    procedure = get_procedure("passport")
    assert procedure.fee("online") == procedure.fee("in_person") == 200_000
    assert procedure.deadline_working_days == 8 and procedure.command == "issue_passport"
    assert {a.kind for a in procedure.attachments} == {"portrait"}


def test_portrait_must_be_an_image(family):
    account = make_account(family["an"], level=2)
    with pytest.raises(DomainError):
        dossiers.submit_dossier(account=account, procedure_code="passport", data=_data(family["an"]),
                                attachments=[dossiers.IncomingFile("portrait", "a.pdf", b"%PDF-1.4\n%%EOF",
                                                                   "application/pdf")])
    assert not Passport.objects.exists()


def test_approval_issues_the_passport_with_its_mrz(family, officer_hoan_kiem):
    account = make_account(family["an"], level=2)
    dossier, _created = dossiers.submit_dossier(account=account, procedure_code="passport",
                                                data=_data(family["an"]),
                                                attachments=[dossiers.IncomingFile("portrait", "p.png", _png(),
                                                                                   "image/png")])
    officer = Actor.for_user(officer_hoan_kiem)
    dossier = dossiers.claim(actor=officer, code=dossier.code, expected_version=dossier.version)
    dossiers.approve(actor=officer, code=dossier.code, expected_version=dossier.version)
    passport = Passport.objects.get()
    assert passport.person == family["an"] and passport.number.startswith("C") and len(passport.number) == 8
    assert (passport.expiry_date.year - passport.issued_on.year) == 10
    data = mrz.parse(passport.mrz)
    assert (data.issuing_state, data.surname, data.given_names) == ("VNM", "NGUYEN", "VAN AN")
    assert data.document_number == passport.number and data.optional_data == family["an"].id_number
    assert data.birth_date == family["an"].birth_date and data.expiry_date == passport.expiry_date


def test_child_passport_is_valid_five_years(family):
    passport = issue_passport(actor=Actor.system(), id_number=family["khoi"].id_number)
    assert passport.expiry_date.year - passport.issued_on.year == 5
