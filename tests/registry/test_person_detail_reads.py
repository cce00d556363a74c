"""The person page's reads are SQL written once per process (core.rawrows): they must return
exactly what the ORM queries they replace return, on SQLite and PostgreSQL alike, with the
related objects already loaded."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from popid.core.access import AccessContext
from popid.registry import selectors, services
from popid.registry.models import CancelledIdNumber, HouseholdMember, Person
from tests.conftest import HOAN_KIEM

pytestmark = pytest.mark.django_db


def _values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def _orm_detail(person: Person) -> dict:
    """The ORM queries person_detail ran before it was rewritten (kept here as the reference)."""
    current = HouseholdMember.objects.filter(person=person, left_on__isnull=True).values("household_id")
    members = list(HouseholdMember.objects.filter(household_id__in=current, left_on__isnull=True)
                   .select_related("household", "household__head", "person").order_by("joined_on", "pk"))
    return {
        "person": person,
        "members": members,
        "residences": list(person.residences.select_related("household").order_by("ended_on", "-valid_from")),
        "relations": list(person.relations.order_by("kind", "valid_from")),
        "cancelled": list(person.cancelled_numbers.order_by("-cancelled_at")),
    }


def test_person_detail_returns_what_the_orm_returns_with_relations_loaded(
        family, admin_actor, django_assert_num_queries):
    an, binh = family["an"], family["binh"]
    services.register_temporary_residence(
        actor=admin_actor, id_number=binh.id_number, commune_code=HOAN_KIEM, address="5 Hàng Gai",
        valid_from=date(2025, 1, 1), valid_until=date(2026, 6, 30), reason="Đăng ký tạm trú")
    Person.objects.filter(pk=an.pk).update(other_info={"ghi_chú": ["Đã đối chiếu", 2]})
    CancelledIdNumber.objects.create(id_number="001090999999", person=an, replaced_by=an.id_number,
                                     reason="Sai ngày sinh", legal_ref="Thông tư 59/2021, Điều 6")
    ctx = AccessContext(actor=admin_actor, purpose="kiểm thử", legal_basis="test")

    for person in Person.objects.filter(pk__in=[p.pk for p in family.values()]):
        detail = selectors.person_detail(ctx=ctx, id_number=person.id_number)
        expected = _orm_detail(Person.objects.get(pk=person.pk))
        assert _values(detail.person) == _values(expected["person"])
        assert [_values(m) for m in detail.household_members] == [_values(m) for m in expected["members"]]
        assert [_values(r) for r in detail.residences] == [_values(r) for r in expected["residences"]]
        assert [_values(r) for r in detail.relations] == [_values(r) for r in expected["relations"]]
        assert [_values(c) for c in detail.cancelled_numbers] == [_values(c) for c in expected["cancelled"]]
        with django_assert_num_queries(0):  # what select_related would have loaded is there already
            assert [(_values(m.person), _values(m.household), m.household.head and _values(m.household.head))
                    for m in detail.household_members] == [
                (_values(m.person), _values(m.household), m.household.head and _values(m.household.head))
                for m in expected["members"]]
            assert [r.household and r.household.code for r in detail.residences] == [
                r.household and r.household.code for r in expected["residences"]]
            assert detail.household is (detail.household_members[0].household if detail.household_members else None)

    detail = selectors.person_detail(ctx=ctx, id_number=an.id_number)
    assert detail.person.other_info == {"ghi_chú": ["Đã đối chiếu", 2]}  # JSON converted as the ORM does
    assert type(detail.person.birth_date) is date and type(detail.cancelled_numbers[0].cancelled_at) is datetime
    assert [m.person.full_name for m in detail.household_members] == ["Nguyễn Văn An", "Trần Thị Bình",
                                                                      "Nguyễn Minh Khôi"]
    assert detail.household is not None and detail.household.head_id == an.pk
    # A cancelled number still finds its person, through the same selector.
    assert selectors.person_detail(ctx=ctx, id_number="001090999999").person.pk == an.pk
