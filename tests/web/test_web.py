"""Officer console through Django's test client: access rules, search, person page, commands
and their failure modes (a failed command writes nothing), i18n and the strict CSP."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from popid.registry.models import HistoryEntry, Person
from tests.conftest import HOAN_KIEM

PASSWORD = "Mat-khau-thu-nghiem-1"


@pytest.fixture
def officer_client(client, officer_hoan_kiem):
    client.force_login(officer_hoan_kiem)
    return client


def correction_payload(person: Person, **overrides: str) -> dict[str, str]:
    data = {
        "full_name": person.full_name, "birth_date": person.birth_date.isoformat(),
        "birth_place": person.birth_place, "hometown": person.hometown, "ethnicity_code": person.ethnicity_code,
        "religion_code": person.religion_code, "nationality": person.nationality, "blood_type": person.blood_type,
        "old_id_number": person.old_id_number, "marital_status": person.marital_status, "phone": person.phone,
        "email": person.email, "reason": "Sai quê quán khi nhập liệu", "legal_ref": "Luật Căn cước 2023, Điều 10",
        "version": str(person.version),
    }
    data.update(overrides)
    return data


def assert_no_inline_code(html: str) -> None:
    assert 'style="' not in html
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> found"
    assert not re.search(r"\son[a-z]+=\"", html), "inline event handler found"


# --- access --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [
    ("registry:home", {}), ("registry:search", {}), ("registry:quality", {}), ("registry:register_birth", {}),
    ("registry:person", {"id_number": "001090000001"}), ("registry:household", {"code": "HK1"}),
])
def test_console_pages_require_login(client, db, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_login_form_refuses_accounts_without_staff_role(client, db):
    get_user_model().objects.create_user(username="dan.thuong", password=PASSWORD)
    response = client.post(reverse("web:login"), {"username": "dan.thuong", "password": PASSWORD})
    assert response.status_code == 200
    assert "không phải tài khoản cán bộ" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logged_in_user_without_staff_role_is_refused(client, db):
    user = get_user_model().objects.create_user(username="dan.thuong", password=PASSWORD)
    client.force_login(user)
    response = client.get(reverse("registry:home"))
    assert response.status_code == 403
    assert "Tài khoản không phải cán bộ" in response.content.decode()


def test_staff_logs_in_with_the_real_form_and_sees_name_and_unit(client, officer_hoan_kiem):
    response = client.post(reverse("web:login"), {"username": "cb.hoankiem", "password": PASSWORD}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Công an phường Hoàn Kiếm" in html and "cb.hoankiem" in html
    assert "PopID</strong> — Cơ sở dữ liệu quốc gia về dân cư" in html


def test_logout_is_a_post(officer_client):
    assert officer_client.get(reverse("web:logout")).status_code == 405
    response = officer_client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert officer_client.get(reverse("registry:home")).status_code == 302


def test_home_counts_persons_in_jurisdiction(officer_client, family):
    html = officer_client.get(reverse("registry:home")).content.decode()
    assert "Phường Hoàn Kiếm" in html
    assert ">4<" in html  # the four family members live in Hoàn Kiếm


# --- search and person page ----------------------------------------------------------------------
def test_search_is_accent_insensitive(officer_client, family):
    response = officer_client.get(reverse("registry:search"), {"name": "nguyen van an"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nguyễn Văn An" in html
    assert reverse("registry:person", args=[family["an"].id_number]) in html


def test_search_with_birth_year_narrows(officer_client, family):
    html = officer_client.get(reverse("registry:search"),
                              {"name": "nguyen van an", "birth_year": "1991"}).content.decode()
    assert "Nguyễn Văn An" not in html


def test_id_number_lookup_redirects_to_the_person(officer_client, family):
    an = family["an"]
    response = officer_client.get(reverse("registry:lookup"), {"id_number": an.id_number})
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:person", args=[an.id_number])


def test_person_page_shows_fields_household_relations_and_history(officer_client, family):
    an = family["an"]
    html = officer_client.get(reverse("registry:person", args=[an.id_number])).content.decode()
    household = an.household_memberships.get(left_on__isnull=True).household
    assert "Nguyễn Văn An" in html and an.id_number in html
    assert "Kinh (01)" in html  # ethnicity by name
    assert "Phường Hoàn Kiếm, Thành phố Hà Nội" in html
    assert reverse("registry:household", args=[household.code]) in html
    assert "Trần Thị Bình" in html and "Nguyễn Minh Khôi" in html
    assert "Lịch sử thay đổi" in html and "Đăng ký kết hôn" in html and "Đăng ký khai sinh" in html
    assert "Thường trú" in html


def test_household_page_lists_members(officer_client, family):
    household = family["an"].household_memberships.get(left_on__isnull=True).household
    html = officer_client.get(reverse("registry:household", args=[household.code])).content.decode()
    assert "Nguyễn Văn An" in html and "Chủ hộ" in html and "Vợ/chồng" in html and "Tách hộ" in html


def test_officer_of_another_commune_gets_404(client, officer_hcm, family):
    client.force_login(officer_hcm)
    response = client.get(reverse("registry:person", args=[family["an"].id_number]))
    assert response.status_code == 404
    assert "Nguyễn Văn An" not in response.content.decode()
    household = family["an"].household_memberships.get(left_on__isnull=True).household
    assert client.get(reverse("registry:household", args=[household.code])).status_code == 404


# --- commands ------------------------------------------------------------------------------------
def test_correction_form_is_prefilled_with_version(officer_client, family):
    an = family["an"]
    html = officer_client.get(reverse("registry:person_command", args=[an.id_number, "correct"])).content.decode()
    assert 'value="Nam Định"' in html
    assert f'name="version" value="{an.version}"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_correction_saves_and_writes_history(officer_client, family):
    an = family["an"]
    url = reverse("registry:person_command", args=[an.id_number, "correct"])
    response = officer_client.post(url, correction_payload(an, hometown="Thái Bình"))
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:person", args=[an.id_number])
    an.refresh_from_db()
    assert an.hometown == "Thái Bình"
    entry = HistoryEntry.objects.filter(person=an).first()
    assert entry.command == "correct_person"
    assert entry.before == {"hometown": "Nam Định"} and entry.after == {"hometown": "Thái Bình"}
    assert entry.legal_ref == "Luật Căn cước 2023, Điều 10"
    html = officer_client.get(response["Location"]).content.decode()
    assert "Đã điều chỉnh thông tin công dân" in html
    assert "Thái Bình" in html and "Sai quê quán khi nhập liệu" in html


def test_stale_version_shows_conflict_and_saves_nothing(officer_client, family):
    an = family["an"]
    history_before = HistoryEntry.objects.filter(person=an).count()
    stale = correction_payload(an, hometown="Thái Bình", version=str(an.version - 1))
    response = officer_client.post(reverse("registry:person_command", args=[an.id_number, "correct"]), stale)
    assert response.status_code == 409
    assert "Hồ sơ đã được người khác cập nhật, vui lòng tải lại" in response.content.decode()
    an.refresh_from_db()
    assert an.hometown == "Nam Định"
    assert HistoryEntry.objects.filter(person=an).count() == history_before


def test_unknown_ethnicity_shows_the_error_next_to_the_field_and_saves_nothing(officer_client, family):
    an = family["an"]
    version = an.version
    response = officer_client.post(reverse("registry:person_command", args=[an.id_number, "correct"]),
                                   correction_payload(an, ethnicity_code="99", hometown="Thái Bình"))
    html = response.content.decode()
    assert response.status_code == 422
    assert "Mã dân tộc 99 không có trong danh mục 54 dân tộc" in html
    assert re.search(r'field has-error">\s*<label for="id_ethnicity_code"', html)
    an.refresh_from_db()
    assert (an.ethnicity_code, an.hometown, an.version) == ("01", "Nam Định", version)


def test_correction_requires_legal_reference(officer_client, family):
    an = family["an"]
    response = officer_client.post(reverse("registry:person_command", args=[an.id_number, "correct"]),
                                   correction_payload(an, hometown="Thái Bình", legal_ref=""))
    assert response.status_code == 422
    assert "Cần ghi căn cứ pháp lý" in response.content.decode()
    an.refresh_from_db()
    assert an.hometown == "Nam Định"


def test_officer_of_another_commune_cannot_post_a_correction(client, officer_hcm, family):
    an = family["an"]
    client.force_login(officer_hcm)
    response = client.post(reverse("registry:person_command", args=[an.id_number, "correct"]),
                           correction_payload(an, hometown="Thái Bình"))
    assert response.status_code == 404
    an.refresh_from_db()
    assert an.hometown == "Nam Định"


def test_record_death_from_the_console(officer_client, family):
    grandma = family["grandma"]
    response = officer_client.post(reverse("registry:person_command", args=[grandma.id_number, "death"]), {
        "died_on": "2024-01-02", "reason": "Đăng ký khai tử", "legal_ref": "Luật Hộ tịch 2014",
        "version": str(grandma.version)})
    assert response.status_code == 302
    grandma.refresh_from_db()
    assert grandma.status == "deceased"


def test_temporary_residence_with_unknown_commune_is_refused(officer_client, family):
    an = family["an"]
    response = officer_client.post(reverse("registry:person_command", args=[an.id_number, "temporary-residence"]), {
        "commune_code": "99999", "address": "5 Lý Thái Tổ", "valid_from": "2025-08-01", "valid_until": "2026-08-01",
        "reason": "Tạm trú", "legal_ref": "", "version": str(an.version)})
    assert response.status_code == 422
    assert "Không có xã/phường nào tên hoặc mã “99999”" in response.content.decode()  # typed by name or code
    assert not an.residences.filter(kind="temporary").exists()


def test_register_birth_prefills_parent_and_creates_the_child(officer_client, family):
    an, binh = family["an"], family["binh"]
    form = officer_client.get(reverse("registry:register_birth"), {"father": an.id_number}).content.decode()
    assert f'value="{an.id_number}"' in form and f'value="{HOAN_KIEM}"' in form
    response = officer_client.post(reverse("registry:register_birth"), {
        "full_name": "Nguyễn Minh Anh", "birth_date": "2024-02-03", "sex": "F", "birth_place": "Hà Nội",
        "birth_registration_commune_code": HOAN_KIEM, "hometown": "Nam Định", "ethnicity_code": "01",
        "religion_code": "00", "nationality": "VN", "father_id_number": an.id_number,
        "mother_id_number": binh.id_number, "father_name": "", "mother_name": "", "household_code": "",
        "reason": "Đăng ký khai sinh", "legal_ref": "Luật Hộ tịch 2014, Điều 16"})
    assert response.status_code == 302
    child = Person.objects.get(full_name="Nguyễn Minh Anh")
    assert response["Location"] == reverse("registry:person", args=[child.id_number])


def test_split_household_from_the_household_page(officer_client, family):
    an = family["an"]
    household = an.household_memberships.get(left_on__isnull=True).household
    response = officer_client.post(reverse("registry:split_household", args=[household.code]), {
        "member_id_numbers": [family["binh"].id_number], "new_head_id_number": family["binh"].id_number,
        "reason": "Tách hộ", "legal_ref": "Luật Cư trú 2020, Điều 25"})
    assert response.status_code == 302
    assert family["binh"].household_memberships.get(left_on__isnull=True).household.code != household.code


# --- i18n and security headers -------------------------------------------------------------------
def test_vietnamese_is_the_default_even_for_english_browsers(officer_client, family):
    html = officer_client.get(reverse("registry:home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="vi">' in html and "Tra cứu công dân" in html


def test_english_switch_renders_english(officer_client, family):
    response = officer_client.post(reverse("web:set_language"), {"language": "en", "next": reverse("registry:home")})
    assert response.status_code == 302
    html = officer_client.get(reverse("registry:home")).content.decode()
    assert '<html lang="en">' in html
    assert "Find a citizen" in html and "Log out" in html
    assert "National Population Database" in html
    html = officer_client.get(reverse("registry:person", args=[family["an"].id_number])).content.decode()
    assert "Change history" in html and "Household" in html


def test_english_error_messages_from_services(officer_client, family):
    an = family["an"]
    officer_client.post(reverse("web:set_language"), {"language": "en"})
    response = officer_client.post(reverse("registry:person_command", args=[an.id_number, "correct"]),
                                   correction_payload(an, hometown="Thái Bình", version=str(an.version - 1)))
    assert "The record was updated by someone else, please reload" in response.content.decode()


@pytest.mark.parametrize("name", ["home", "search", "quality", "register_birth", "person", "correct", "household",
                                  "login"])
def test_csp_header_and_no_inline_scripts_or_styles(client, officer_hoan_kiem, family, name):
    an = family["an"]
    household = an.household_memberships.get(left_on__isnull=True).household
    urls = {
        "home": reverse("registry:home"), "search": reverse("registry:search") + "?name=nguyen+van+an",
        "quality": reverse("registry:quality"), "register_birth": reverse("registry:register_birth"),
        "person": reverse("registry:person", args=[an.id_number]),
        "correct": reverse("registry:person_command", args=[an.id_number, "correct"]),
        "household": reverse("registry:household", args=[household.code]), "login": reverse("web:login"),
    }
    if name != "login":
        client.force_login(officer_hoan_kiem)
    response = client.get(urls[name])
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    html = response.content.decode()
    assert '<meta charset="utf-8">' in html
    assert_no_inline_code(html)


# --- quality dashboard ---------------------------------------------------------------------------
def test_quality_dashboard_after_a_run(client, supervisor_nation, family):
    from popid.registry.quality.engine import run_quality_check

    Person.objects.filter(pk=family["khoi"].pk).update(ethnicity_code="77")  # an injected bad code
    run_quality_check()
    client.force_login(supervisor_nation)
    response = client.get(reverse("registry:quality"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "Thành phố Hà Nội" in html
    # SVG lengths are never localised: "230,0" is not a length (Vietnamese uses a decimal comma)
    assert not re.search(r'(?:x|x1|x2|y|width)="[0-9.]*,', html)
    assert "Mã dân tộc không có trong danh mục" in html
    assert reverse("registry:person", args=[family["khoi"].id_number]) in html
    assert_no_inline_code(html)
    person_html = client.get(reverse("registry:person", args=[family["khoi"].id_number])).content.decode()
    assert "Mã dân tộc không có trong danh mục" in person_html


def test_only_supervisors_may_start_a_quality_run(officer_client, supervisor_nation, family):
    from django.test import Client

    from popid.registry.quality.models import QualityRun

    assert officer_client.post(reverse("registry:quality_run")).status_code == 403
    assert not QualityRun.objects.exists()
    client = Client()
    client.force_login(supervisor_nation)
    response = client.post(reverse("registry:quality_run"))
    assert response.status_code == 302
    assert QualityRun.objects.filter(status="done").count() == 1


def test_malformed_id_number_in_the_address_is_a_page_not_a_crash(officer_client, db):
    response = officer_client.get(reverse("registry:person", args=["12AB"]))
    assert response.status_code == 422
    assert "Số định danh cá nhân gồm đúng 12 chữ số" in response.content.decode()
