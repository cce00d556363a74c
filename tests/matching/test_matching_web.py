"""Clerical review pages: queue, pair side by side with the waterfall, decisions, jurisdiction,
access records, strict CSP (no inline style)."""

from __future__ import annotations

from datetime import date

import pytest

from popid.core.models import AccessRecord
from popid.matching.models import CandidatePair, PairStatus
from popid.registry import services
from popid.registry.models import Person, PersonMerge, PersonStatus
from tests.conftest import HOAN_KIEM


@pytest.fixture
def pair(family, admin_actor) -> CandidatePair:
    twin = services.register_birth(
        actor=admin_actor, full_name="Nguyen Van An", birth_date=date(1990, 12, 5), sex="M", birth_place="Hà Nội",
        birth_registration_commune_code=HOAN_KIEM, hometown="Nam Định", ethnicity_code="01",
        father_name="Nguyễn Văn Bình")
    services.register_permanent_residence(actor=admin_actor, id_number=twin.id_number, commune_code=HOAN_KIEM,
                                          address="5 Hàng Đào", valid_from=date(2019, 1, 1), reason="Thường trú")
    an = family["an"]
    evidence = [{"comparison": "name", "gamma": 4, "level": "same name without diacritics", "weight": 9.1, "tf": -1.2},
                {"comparison": "birth", "gamma": 4, "level": "day and month swapped", "weight": 6.0, "tf": None},
                {"comparison": "phone", "gamma": 0, "level": "All other comparisons", "weight": -2.5, "tf": None}]
    left, right = sorted((an, Person.objects.get(pk=twin.pk)), key=lambda p: p.pk)
    return CandidatePair.objects.create(left=left, right=right, match_probability=0.62, match_weight=0.7,
                                        uncertainty=0.12, band="uncertain", evidence=evidence)


def test_queue_and_pair_page(client, officer_hoan_kiem, pair):
    client.force_login(officer_hoan_kiem)
    page = client.get("/so-khop/")
    assert page.status_code == 200 and f"/so-khop/cap/{pair.pk}/" in page.content.decode()
    assert "Nguyễn Văn An" not in page.content.decode()  # the queue shows no personal data
    before = AccessRecord.objects.count()
    detail = client.get(f"/so-khop/cap/{pair.pk}/")
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "Nguyễn Văn An" in html and "Nguyen Van An" in html and 'class="differs"' in html
    assert "<svg" in html and "bar-against" in html and "ngày và tháng bị đảo" in html
    assert 'style="' not in html and "<style" not in html
    assert AccessRecord.objects.count() == before + 2
    assert set(AccessRecord.objects.order_by("-id").values_list("person_id_number", flat=True)[:2]) == {
        pair.left.id_number, pair.right.id_number}


def test_decide_same_merges_and_a_second_decision_conflicts(client, officer_hoan_kiem, officer_hanoi_province, pair):
    client.force_login(officer_hoan_kiem)
    response = client.post(f"/so-khop/cap/{pair.pk}/quyet-dinh/",
                           {"decision": "same", "survivor": "left", "version": 1, "note": "Cùng cha mẹ, cùng nơi sinh"})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.status == PairStatus.SAME and PersonMerge.objects.count() == 1
    assert Person.objects.get(pk=pair.right_id).status == PersonStatus.MERGED
    client.force_login(officer_hanoi_province)
    late = client.post(f"/so-khop/cap/{pair.pk}/quyet-dinh/", {"decision": "different", "version": 1})
    assert late.status_code == 409 and "đã được cán bộ khác quyết định" in late.content.decode()
    pair.refresh_from_db()
    assert pair.status == PairStatus.SAME


def test_outside_jurisdiction_is_not_found_and_changes_nothing(client, officer_hcm, pair):
    client.force_login(officer_hcm)
    before = AccessRecord.objects.count()
    assert client.get(f"/so-khop/cap/{pair.pk}/").status_code == 404
    assert client.post(f"/so-khop/cap/{pair.pk}/quyet-dinh/", {"decision": "same", "version": 1}).status_code == 404
    assert AccessRecord.objects.count() == before
    pair.refresh_from_db()
    assert pair.status == PairStatus.PENDING and "cap/" not in client.get("/so-khop/").content.decode()


def test_anonymous_is_sent_to_login(client, pair):
    assert client.get("/so-khop/").status_code == 302


def test_every_level_and_comparison_of_the_registry_model_reads_in_vietnamese():
    """The waterfall shows the model's levels by name: each one the registry model can produce
    has its Vietnamese text (an English label left untranslated would show through)."""
    from popid.matching.engine import FieldSet, comparison_names, level_labels, settings_for
    from popid.matching.views import COMPARISONS, LEVELS

    settings = settings_for(FieldSet.registry(), link=False).create_settings_dict("duckdb")
    labels = set(level_labels(settings).values())
    assert len(labels) > 20
    assert labels - set(LEVELS) == set()
    assert set(comparison_names(FieldSet.registry())) - set(COMPARISONS) == set()
