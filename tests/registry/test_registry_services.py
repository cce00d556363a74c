"""Registry commands: history and outbox in one transaction, domain checks, jurisdiction,
optimistic locking. Denied or invalid commands must leave nothing written."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.id_numbers import check_id_number
from popid.registry import services
from popid.registry.errors import (
    AbolishedCommune,
    ChildBornBeforeParent,
    DeathBeforeBirth,
    ImpossibleDate,
    InvalidCode,
    InvalidCommune,
    InvalidState,
    PersonNotFound,
    StaleVersion,
)
from popid.registry.models import (
    CancelledIdNumber,
    HistoryEntry,
    HouseholdMember,
    OutboxEvent,
    Person,
    Residence,
)
from tests.conftest import HCM_COMMUNE, HOAN_KIEM

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (Person.objects.count(), HistoryEntry.objects.count(), OutboxEvent.objects.count(),
            Residence.objects.count())


def test_register_birth_issues_consistent_id_number_with_history_and_event(family):
    khoi = family["khoi"]
    parsed = check_id_number(khoi.id_number, sex="M", birth_year=2018)
    assert parsed.place_code == "001"  # registered in Hà Nội
    assert khoi.name_norm == "nguyen minh khoi"
    assert khoi.commune_code == HOAN_KIEM  # joined the mother's household
    assert HouseholdMember.objects.get(person=khoi, left_on__isnull=True).relationship == "child"
    entry = khoi.history.get()
    assert entry.command == "register_birth" and entry.after["id_number"] == khoi.id_number
    assert OutboxEvent.objects.filter(topic="person.born", aggregate_id=khoi.id_number).exists()
    kinds = set(khoi.relations.values_list("kind", flat=True))
    assert kinds == {"father", "mother"}
    assert family["an"].relations.filter(kind="child", relative=khoi).exists()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"birth_registration_commune_code": "99999"}, InvalidCommune),
        ({"birth_registration_commune_code": "00001"}, AbolishedCommune),
        ({"birth_date": date.today() + timedelta(days=3)}, ImpossibleDate),
        ({"ethnicity_code": "77"}, InvalidCode),
        ({"full_name": "Nguyễn 123"}, InvalidCode),
    ],
)
def test_register_birth_refuses_bad_input_and_writes_nothing(admin_actor, changes, error):
    kwargs = dict(full_name="Phạm Thu Hà", birth_date=date(2024, 1, 2), sex="F", birth_place="Hà Nội",
                  birth_registration_commune_code=HOAN_KIEM, hometown="Hà Nội", ethnicity_code="01",
                  mother_name="Phạm Thị Lan")
    before = counts()
    with pytest.raises(error):
        services.register_birth(actor=admin_actor, **{**kwargs, **changes})
    assert counts() == before


def test_child_born_before_parent_is_refused(family, admin_actor):
    before = counts()
    with pytest.raises(ChildBornBeforeParent):
        services.register_birth(actor=admin_actor, full_name="Nguyễn Văn Sai", birth_date=date(1985, 1, 1), sex="M",
                                birth_place="Hà Nội", birth_registration_commune_code=HOAN_KIEM, hometown="Nam Định",
                                ethnicity_code="01", father_id_number=family["an"].id_number)
    assert counts() == before


def test_record_death_ends_residences_widows_spouse_and_refuses_death_before_birth(family, actor_hoan_kiem):
    an = family["an"]
    version = an.version
    with pytest.raises(DeathBeforeBirth):
        services.record_death(actor=actor_hoan_kiem, id_number=an.id_number, died_on=date(1989, 1, 1), reason="x")
    assert Person.objects.get(pk=an.pk).status == "alive"
    services.record_death(actor=actor_hoan_kiem, id_number=an.id_number, died_on=date(2025, 2, 3),
                          reason="Giấy báo tử số 12/2025")
    an.refresh_from_db()
    assert (an.status, an.died_on, an.version) == ("deceased", date(2025, 2, 3), version + 1)
    assert not Residence.objects.filter(person=an, ended_on__isnull=True).exists()
    assert Person.objects.get(pk=family["binh"].pk).marital_status == "widowed"
    assert OutboxEvent.objects.filter(topic="person.died", aggregate_id=an.id_number).exists()
    with pytest.raises(InvalidState):
        services.record_death(actor=actor_hoan_kiem, id_number=an.id_number, died_on=date(2025, 2, 3), reason="x")


def test_officer_outside_jurisdiction_sees_not_found_and_changes_nothing(family, actor_hcm):
    an = family["an"]
    before = counts()
    with pytest.raises(PersonNotFound):
        services.record_death(actor=actor_hcm, id_number=an.id_number, died_on=date(2025, 1, 1), reason="x")
    with pytest.raises(PersonNotFound):
        services.correct_person(actor=actor_hcm, id_number=an.id_number, changes={"hometown": "Huế"},
                                reason="x", legal_ref="y", expected_version=an.version)
    assert counts() == before
    assert Person.objects.get(pk=an.pk).version == an.version


def test_supervisor_may_not_write(family, supervisor_nation):
    actor = Actor.for_user(supervisor_nation)
    with pytest.raises(PermissionDenied):
        services.correct_person(actor=actor, id_number=family["an"].id_number, changes={"hometown": "Huế"},
                                reason="x", legal_ref="y", expected_version=family["an"].version)


def test_correct_person_writes_before_after_and_rejects_stale_version(family, actor_hoan_kiem):
    an = family["an"]
    services.correct_person(actor=actor_hoan_kiem, id_number=an.id_number, changes={"full_name": "nguyễn  văn ân"},
                            reason="Sai chính tả khi nhập", legal_ref="Luật Căn cước 2023, Điều 10",
                            expected_version=an.version)
    updated = Person.objects.get(pk=an.pk)
    assert updated.full_name == "Nguyễn Văn Ân" and updated.name_norm == "nguyen van an"
    entry = updated.history.first()
    assert entry.before == {"full_name": "Nguyễn Văn An"} and entry.after == {"full_name": "Nguyễn Văn Ân"}
    assert entry.actor == "cb.hoankiem"
    # a second officer who read the old version loses: conflict, no lost update
    with pytest.raises(StaleVersion):
        services.correct_person(actor=actor_hoan_kiem, id_number=an.id_number, changes={"hometown": "Huế"},
                                reason="x", legal_ref="y", expected_version=an.version)
    assert Person.objects.get(pk=an.pk).hometown == "Nam Định"


def test_correct_person_refuses_fields_that_belong_to_the_id_number(family, actor_hoan_kiem):
    an = family["an"]
    with pytest.raises(ValidationFailed) as info:
        services.correct_person(actor=actor_hoan_kiem, id_number=an.id_number, changes={"sex": "F"},
                                reason="x", legal_ref="y", expected_version=an.version)
    assert info.value.errors()[0]["field"] == "sex"
    with pytest.raises(ValidationFailed):
        services.correct_person(actor=actor_hoan_kiem, id_number=an.id_number,
                                changes={"birth_date": date(1991, 5, 12)}, reason="x", legal_ref="y",
                                expected_version=an.version)


def test_reissue_id_number_cancels_old_number_and_updates_relatives(family, actor_hoan_kiem):
    an = family["an"]
    old = an.id_number
    person = services.reissue_id_number(actor=actor_hoan_kiem, id_number=old, birth_date=date(1991, 5, 12),
                                        reason="Sai năm sinh khi đăng ký", legal_ref="Thông tư 59/2021, Điều 6",
                                        expected_version=an.version)
    assert person.id_number != old
    check_id_number(person.id_number, sex="M", birth_year=1991)
    assert CancelledIdNumber.objects.get(id_number=old).replaced_by == person.id_number
    assert family["khoi"].relations.get(kind="father").relative_id_number == person.id_number


def test_temporary_residence_limited_to_two_years_and_processed_by_destination(family, actor_hcm, actor_hoan_kiem):
    an = family["an"]
    with pytest.raises(ImpossibleDate):
        services.register_temporary_residence(actor=actor_hcm, id_number=an.id_number, commune_code=HCM_COMMUNE,
                                              address="1 Lê Lợi", valid_from=date(2025, 1, 1),
                                              valid_until=date(2028, 1, 1), reason="Đi làm")
    with pytest.raises(PermissionDenied):  # Hoàn Kiếm police cannot register residence in Sài Gòn
        services.register_temporary_residence(actor=actor_hoan_kiem, id_number=an.id_number,
                                              commune_code=HCM_COMMUNE, address="1 Lê Lợi",
                                              valid_from=date(2025, 1, 1), valid_until=date(2026, 1, 1),
                                              reason="Đi làm")
    residence = services.register_temporary_residence(
        actor=actor_hcm, id_number=an.id_number, commune_code=HCM_COMMUNE, address="1 Lê Lợi",
        valid_from=date(2025, 1, 1), valid_until=date(2026, 12, 31), reason="Đi làm")
    assert residence.province_code == "79"
    assert Person.objects.get(pk=an.pk).commune_code == HOAN_KIEM  # permanent residence still decides


def test_permanent_move_founds_household_and_moves_jurisdiction(family, actor_hcm):
    binh = family["binh"]
    services.register_permanent_residence(actor=actor_hcm, id_number=binh.id_number, commune_code=HCM_COMMUNE,
                                          address="5 Nguyễn Huệ", valid_from=date(2025, 3, 1), reason="Chuyển nơi ở")
    binh.refresh_from_db()
    assert (binh.commune_code, binh.province_code) == (HCM_COMMUNE, "79")
    membership = HouseholdMember.objects.get(person=binh, left_on__isnull=True)
    assert membership.relationship == "head" and membership.household.head_id == binh.pk
    assert Residence.objects.filter(person=binh, kind="permanent").count() == 2


def test_split_household(family, actor_hoan_kiem, admin_actor):
    an, binh, khoi = family["an"], family["binh"], family["khoi"]
    household = HouseholdMember.objects.get(person=an, left_on__isnull=True).household
    with pytest.raises(ValidationFailed):  # a child cannot head a household
        services.split_household(actor=actor_hoan_kiem, household_code=household.code,
                                 member_id_numbers=[khoi.id_number], new_head_id_number=khoi.id_number, reason="x")
    new = services.split_household(actor=actor_hoan_kiem, household_code=household.code,
                                   member_id_numbers=[khoi.id_number], new_head_id_number=binh.id_number,
                                   reason="Tách hộ theo nguyện vọng")
    assert new.head_id == binh.pk and new.address == household.address
    rel = {m.person_id: m.relationship for m in new.members.filter(left_on__isnull=True)}
    assert rel == {binh.pk: "head", khoi.pk: "child"}
    assert list(household.members.filter(left_on__isnull=True).values_list("person_id", flat=True)) == [an.pk]


def test_marriage_requires_age_and_single_status(family, admin_actor):
    with pytest.raises(InvalidState):
        services.record_marriage(actor=admin_actor, id_number=family["an"].id_number,
                                 spouse_id_number=family["grandma"].id_number, married_on=date(2024, 1, 1))
