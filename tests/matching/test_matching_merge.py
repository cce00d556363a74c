"""merge_persons / split_persons (registry commands) and review decisions on candidate pairs."""

from __future__ import annotations

from datetime import date

import pytest

from popid.core.access import Actor
from popid.core.errors import PermissionDenied
from popid.matching.errors import PairAlreadyDecided
from popid.matching.models import CandidatePair, PairStatus
from popid.matching.services import decide_pair
from popid.registry import services
from popid.registry.errors import MergeRefused, PersonNotFound, StaleVersion
from popid.registry.models import (
    CancelledIdNumber,
    HistoryEntry,
    HouseholdMember,
    OutboxEvent,
    Person,
    PersonMerge,
    PersonStatus,
    Residence,
)
from tests.conftest import HOAN_KIEM


@pytest.fixture
def second_an(family, admin_actor) -> Person:
    """A second record of Nguyễn Văn An, typed without diacritics, with his own residence."""
    twin = services.register_birth(
        actor=admin_actor, full_name="Nguyen Van An", birth_date=date(1990, 5, 12), sex="M",
        birth_place="Hà Nội", birth_registration_commune_code=HOAN_KIEM, hometown="Nam Định", ethnicity_code="01",
        father_name="Nguyễn Văn Bình")
    services.register_permanent_residence(
        actor=admin_actor, id_number=twin.id_number, commune_code=HOAN_KIEM, address="5 Hàng Đào",
        valid_from=date(2019, 1, 1), reason="Đăng ký thường trú")
    return Person.objects.get(pk=twin.pk)


def _merge(actor, survivor, duplicate, **kw):
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    return services.merge_persons(actor=actor, survivor_id_number=survivor.id_number,
                                  duplicate_id_number=duplicate.id_number, survivor_version=survivor.version,
                                  duplicate_version=duplicate.version, reason=kw.pop("reason", "Hồ sơ trùng"), **kw)


def test_merge_moves_everything_cancels_the_number_and_emits(family, second_an, actor_hoan_kiem):
    an = family["an"]
    khoi = family["khoi"]
    merge = _merge(actor_hoan_kiem, an, second_an)
    an.refresh_from_db()
    second_an.refresh_from_db()
    assert second_an.status == PersonStatus.MERGED and second_an.other_info["merged_into"] == an.id_number
    cancelled = CancelledIdNumber.objects.get(id_number=second_an.id_number)
    assert cancelled.person == an and cancelled.replaced_by == an.id_number
    # the duplicate's active permanent residence and membership were ended (An has his own)
    assert not Residence.objects.filter(person=second_an, ended_on__isnull=True).exists()
    assert not HouseholdMember.objects.filter(person=second_an, left_on__isnull=True).exists()
    assert HouseholdMember.objects.filter(person=an, left_on__isnull=True).count() == 1
    assert {h.command for h in HistoryEntry.objects.filter(person__in=[an, second_an], command="merge_persons")} \
        == {"merge_persons"}
    assert HistoryEntry.objects.filter(command="merge_persons").count() == 2
    event = OutboxEvent.objects.get(topic="person.merged")
    assert event.aggregate_id == an.id_number and event.payload["merged_id_number"] == second_an.id_number
    assert merge.moved and PersonMerge.objects.count() == 1
    assert khoi.relations.filter(relative=an).exists()


def test_split_restores_within_the_window(family, second_an, actor_hoan_kiem, supervisor_nation):
    an = family["an"]
    merge = _merge(actor_hoan_kiem, an, second_an)
    with pytest.raises(PermissionDenied):
        services.split_persons(actor=actor_hoan_kiem, merge_id=merge.pk, reason="Nhầm")
    supervisor = Actor.for_user(supervisor_nation)
    services.split_persons(actor=supervisor, merge_id=merge.pk, reason="Hai người khác nhau")
    second_an.refresh_from_db()
    assert second_an.status == PersonStatus.ALIVE and "merged_into" not in second_an.other_info
    assert not CancelledIdNumber.objects.filter(id_number=second_an.id_number).exists()
    assert Residence.objects.filter(person=second_an, ended_on__isnull=True).count() == 1
    assert HistoryEntry.objects.filter(command="split_persons").count() == 2
    assert OutboxEvent.objects.filter(topic="person.split").exists()
    with pytest.raises(MergeRefused):
        services.split_persons(actor=supervisor, merge_id=merge.pk, reason="Lần nữa")


def test_merge_into_self_or_a_dead_person_is_refused(family, second_an, actor_hoan_kiem, admin_actor):
    an = family["an"]
    with pytest.raises(MergeRefused):
        _merge(actor_hoan_kiem, an, an)
    services.record_death(actor=admin_actor, id_number=family["grandma"].id_number, died_on=date(2024, 1, 1),
                          reason="Khai tử")
    grandma = Person.objects.get(pk=family["grandma"].pk)
    assert grandma.status == PersonStatus.DECEASED
    with pytest.raises(MergeRefused):
        _merge(actor_hoan_kiem, grandma, second_an)
    assert not PersonMerge.objects.exists() and not OutboxEvent.objects.filter(topic="person.merged").exists()


def test_stale_version_changes_nothing(family, second_an, actor_hoan_kiem):
    an = family["an"]
    with pytest.raises(StaleVersion):
        services.merge_persons(actor=actor_hoan_kiem, survivor_id_number=an.id_number,
                               duplicate_id_number=second_an.id_number, survivor_version=an.version - 1,
                               duplicate_version=second_an.version, reason="Hồ sơ trùng")
    second_an.refresh_from_db()
    assert second_an.status == PersonStatus.ALIVE and not CancelledIdNumber.objects.exists()


def _pair(a: Person, b: Person) -> CandidatePair:
    left, right = sorted((a, b), key=lambda p: p.pk)
    return CandidatePair.objects.create(left=left, right=right, match_probability=0.7, match_weight=1.2,
                                        uncertainty=0.2, band="uncertain", evidence=[])


def test_two_officers_deciding_the_same_pair(family, second_an, actor_hoan_kiem, officer_hanoi_province):
    pair = _pair(family["an"], second_an)
    other = Actor.for_user(officer_hanoi_province)
    decided = decide_pair(actor=actor_hoan_kiem, pair_id=pair.pk, decision="same", expected_version=1,
                          survivor_id_number=family["an"].id_number)
    assert decided.status == PairStatus.SAME and decided.merge_id
    with pytest.raises(PairAlreadyDecided):
        decide_pair(actor=other, pair_id=pair.pk, decision="different", expected_version=1)
    pair.refresh_from_db()
    assert pair.status == PairStatus.SAME and pair.decided_by == actor_hoan_kiem.label
    assert PersonMerge.objects.count() == 1


def test_different_and_unsure_decisions_and_jurisdiction(family, second_an, actor_hoan_kiem, actor_hcm,
                                                         officer_hanoi_province):
    pair = _pair(family["an"], second_an)
    from popid.matching.errors import PairNotFound

    with pytest.raises(PairNotFound):  # outside Sài Gòn's jurisdiction: looks missing
        decide_pair(actor=actor_hcm, pair_id=pair.pk, decision="different", expected_version=1)
    decide_pair(actor=actor_hoan_kiem, pair_id=pair.pk, decision="unsure", expected_version=1)
    with pytest.raises(PairAlreadyDecided):  # escalated: the commune no longer decides it
        decide_pair(actor=actor_hoan_kiem, pair_id=pair.pk, decision="different", expected_version=2)
    province = Actor.for_user(officer_hanoi_province)
    decided = decide_pair(actor=province, pair_id=pair.pk, decision="different", expected_version=2)
    assert decided.status == PairStatus.DIFFERENT and not PersonMerge.objects.exists()


def test_merge_into_a_merged_or_missing_person_is_refused(family, second_an, actor_hoan_kiem, admin_actor):
    an, binh = family["an"], family["binh"]
    _merge(actor_hoan_kiem, an, second_an)
    second_an.refresh_from_db()
    assert second_an.status == PersonStatus.MERGED
    with pytest.raises(MergeRefused):  # the duplicate is gone: nothing can be merged into it
        _merge(actor_hoan_kiem, second_an, binh)
    binh.refresh_from_db()
    with pytest.raises(PersonNotFound):  # an ID number the registry does not have
        services.merge_persons(actor=actor_hoan_kiem, survivor_id_number="001099000000",
                               duplicate_id_number=binh.id_number, survivor_version=1,
                               duplicate_version=binh.version, reason="Hồ sơ trùng")
    assert PersonMerge.objects.count() == 1
    assert Person.objects.get(pk=binh.pk).status == PersonStatus.ALIVE


@pytest.mark.django_db(transaction=True)
def test_two_officers_deciding_the_same_pair_at_once(family, second_an, officer_hoan_kiem, officer_hanoi_province):
    """Both open version 1 and decide together (one 'same', one 'different'): exactly one
    decision is written, the other is refused with PairAlreadyDecided, at most one merge."""
    import threading

    from django.db import connection

    pair = _pair(family["an"], second_an)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(user, decision: str) -> None:
        barrier.wait()
        try:
            decide_pair(actor=Actor.for_user(user), pair_id=pair.pk, decision=decision, expected_version=1,
                        survivor_id_number=family["an"].id_number)
            outcomes.append("ok")
        except PairAlreadyDecided:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(officer_hoan_kiem, "same")),
               threading.Thread(target=decide, args=(officer_hanoi_province, "different"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    pair.refresh_from_db()
    assert pair.version == 2 and pair.status in (PairStatus.SAME, PairStatus.DIFFERENT)
    assert PersonMerge.objects.count() == (1 if pair.status == PairStatus.SAME else 0)
