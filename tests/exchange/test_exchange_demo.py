"""The seeded demo bank (issue #5 'done when'): its key file, grants, the citizen's consent and two
real calls that appear in the citizen's access history; and the same calls over HTTP."""

from __future__ import annotations

import stat

import pytest

from popid.core.models import AccessRecord
from popid.exchange import demo
from popid.exchange.models import ConsentStatus, DataConsent, Subsystem
from tests.exchange.test_exchange_services import _clear_cache  # noqa: F401


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def test_seed_demo_is_idempotent_and_leaves_both_accesses(family, data_dir):
    an = family["an"]
    lines = demo.ensure_demo()
    assert any("Ngân hàng demo" in line for line in lines)
    path = demo.key_file()
    assert path.parent == data_dir and stat.S_IMODE(path.stat().st_mode) == 0o600
    subsystem = Subsystem.objects.get(agency__code=demo.AGENCY_CODE)
    consent = DataConsent.objects.get(agency=subsystem.agency, person=an)
    assert consent.status == ConsentStatus.APPROVED and consent.fields == ["phone"]
    records = {r.channel: r for r in AccessRecord.objects.filter(person_id_number=an.id_number,
                                                                 actor_unit="Ngân hàng demo")}
    assert set(records) == {"ekyc", "exchange"}
    assert records["exchange"].consent_ref == consent.reference and "phone" in records["exchange"].fields
    assert records["ekyc"].purpose == demo.PURPOSE and records["ekyc"].legal_basis == demo.LEGAL_BASIS
    count = AccessRecord.objects.count()
    demo.ensure_demo()
    assert AccessRecord.objects.count() == count and DataConsent.objects.count() == 1
    assert Subsystem.objects.count() == 1


def test_lost_key_file_gets_a_new_registered_key(family, data_dir):
    demo.ensure_demo()
    old = Subsystem.objects.get().client.jwks
    demo.key_file().unlink()
    demo.ensure_demo()
    assert Subsystem.objects.get().client.jwks != old and demo.key_file().exists()


def test_demo_call_over_http(live_server, transactional_db, family, data_dir):
    demo.ensure_demo()
    before = AccessRecord.objects.filter(person_id_number=family["an"].id_number, actor_unit="Ngân hàng demo").count()
    lines = demo.demo_call_over_http(live_server.url)
    assert "→ 200 scope=exchange.ekyc exchange.person_data" in lines[0]
    assert '"match": true' in lines[1] and "→ 200" in lines[2] and '"phone"' in lines[2]
    assert lines[3].endswith("403 field_not_granted")
    after = AccessRecord.objects.filter(person_id_number=family["an"].id_number, actor_unit="Ngân hàng demo").count()
    assert after == before + 2


def test_demo_event_grant_includes_births_and_residence_changes(family, data_dir):
    """Issue #19 item 11: the webhook demo shows every life event; an older seed is widened."""
    from popid.exchange.models import Grant

    demo.ensure_demo()
    grant = Grant.objects.get(subsystem__agency__code=demo.AGENCY_CODE, service="events", revoked_at__isnull=True)
    assert {"birth", "residence_change", "death"} <= set(grant.event_types)
    grant.event_types = ["death"]  # as seeded before
    grant.save(update_fields=["event_types"])
    demo.ensure_demo()
    current = Grant.objects.get(subsystem__agency__code=demo.AGENCY_CODE, service="events", revoked_at__isnull=True)
    assert current.pk != grant.pk and {"birth", "residence_change"} <= set(current.event_types)
