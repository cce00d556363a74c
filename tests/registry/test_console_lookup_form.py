"""The officer's lookup and search forms as a phone user meets them (issue #19 item 7): a malformed
ID number is a typing error said once (422, next to the field), an unknown one is "not found" said
once (404); the commune is typed by name, with or without diacritics, not only as a code."""

from __future__ import annotations

import pytest

from popid.core import admin_units
from tests.conftest import HOAN_KIEM


@pytest.fixture
def officer(client, officer_hoan_kiem):
    client.force_login(officer_hoan_kiem)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["12345", "00109000000A", "0010900000001234"])
def test_malformed_id_number_is_a_typing_error_said_once(officer, typed):
    response = officer.get("/lookup/", {"id_number": typed})
    html = response.content.decode()
    assert response.status_code == 422
    assert html.count("gồm đúng 12 chữ số") == 1
    assert "Không tìm thấy" not in html


@pytest.mark.django_db
def test_unknown_id_number_is_not_found_said_once(officer):
    response = officer.get("/lookup/", {"id_number": "001099999999"})
    html = response.content.decode()
    assert response.status_code == 404
    title = "Không tìm thấy"
    assert html.count(title) == 1, html[html.find("<main"):html.find("</main>")]


@pytest.mark.django_db
def test_spaces_in_a_typed_number_are_forgiven(officer, family):
    number = family["an"].id_number
    response = officer.get("/lookup/", {"id_number": f"{number[:4]} {number[4:8]} {number[8:]}"})
    assert response.status_code == 302 and number in response["Location"]


def test_communes_are_found_by_name_with_or_without_diacritics():
    hoan_kiem = admin_units.commune(HOAN_KIEM)
    assert hoan_kiem is not None
    for typed in (hoan_kiem.name, "hoan kiem", "Hoàn Kiếm", "  PHUONG HOAN KIEM ", HOAN_KIEM):
        assert [u.code for u in admin_units.find_communes(typed)] == [HOAN_KIEM], typed
    assert admin_units.find_communes("khong co xa nay") == []


@pytest.mark.django_db
def test_search_accepts_a_commune_name_and_explains_an_unknown_one(officer, family):
    ok = officer.get("/search/", {"name": "Nguyen Van An", "commune_code": "hoan kiem"})
    assert ok.status_code == 200 and "Nguyễn Văn An" in ok.content.decode()
    unknown = officer.get("/search/", {"name": "Nguyen Van An", "commune_code": "khong co xa nay"})
    assert "Không có xã/phường nào tên hoặc mã" in unknown.content.decode()
    form_html = unknown.content.decode()
    assert 'name="commune_code"' in form_html and 'inputmode="numeric" list="communes"' not in form_html
