"""Data-sharing services (issue #5): grants, eKYC, person data, consent, life status, quotas.
Helpers here are shared with the other test_exchange_* files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from joserfc.jwk import ECKey

from popid.core import hotcache
from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.models import AccessRecord
from popid.exchange import management_services as manage
from popid.exchange import services
from popid.exchange.access import RequestContext
from popid.exchange.errors import (
    BatchTooLarge,
    ConfidentialNotAllowed,
    ConsentExpired,
    ConsentPending,
    ConsentRefused,
    ConsentRequired,
    ConsentRevoked,
    FieldNotGranted,
    GrantExpired,
    QuotaExceeded,
    ServiceNotGranted,
    Throttled,
)
from popid.exchange.models import ConsentStatus, DataConsent, Grant, Subsystem
from popid.registry.errors import PersonNotFound

ADMIN = Actor.system("test-admin")
PURPOSE = "Mở tài khoản thanh toán"
LEGAL = "Luật Các tổ chức tín dụng 2024; Thông tư 17/2024/TT-NHNN"


def rc(**extra) -> RequestContext:
    return RequestContext(purpose=extra.pop("purpose", PURPOSE), legal_basis=LEGAL,
                          official=extra.pop("official", "Giao dịch viên Lê Thu"), **extra)


def make_bank(*, key: ECKey | None = None, code: str = "bank", rate: int = 600, quota: int = 100_000):
    """A bank with one subsystem and grants for every service. Returns (agency, subsystem, key)."""
    key = key or ECKey.generate_key("P-256", parameters={"kid": f"{code}-1", "alg": "ES256"}, private=True)
    agency = manage.create_agency(actor=ADMIN, code=code, name="Ngân hàng thử nghiệm", kind="bank",
                                  rate_per_minute=rate, daily_quota=quota)
    subsystem = manage.create_subsystem(actor=ADMIN, agency=agency, code="core", name="Hệ thống lõi",
                                        jwks={"keys": [key.as_dict(private=False)]})
    until = timezone.now() + timedelta(days=365)
    manage.create_grant(actor=ADMIN, subsystem=subsystem, service="ekyc", legal_basis=LEGAL, expires_at=until,
                        fields=["full_name", "birth_date", "sex", "id_card", "phone"])
    manage.create_grant(actor=ADMIN, subsystem=subsystem, service="batch_verify", legal_basis=LEGAL,
                        expires_at=until, fields=["full_name", "birth_date", "sex", "phone"])
    manage.create_grant(actor=ADMIN, subsystem=subsystem, service="person_data", legal_basis=LEGAL, expires_at=until,
                        fields=["full_name", "birth_date", "permanent_address", "blood_type", "religion", "phone"])
    manage.create_grant(actor=ADMIN, subsystem=subsystem, service="life_status", legal_basis=LEGAL,
                        expires_at=until, fields=[])
    manage.create_grant(actor=ADMIN, subsystem=subsystem, service="events", legal_basis=LEGAL, expires_at=until,
                        fields=["full_name", "birth_date", "life_status"], event_types=["death", "residence_change"])
    return agency, subsystem, key


def approved_consent(subsystem, person, fields=("blood_type", "phone"), **extra) -> DataConsent:
    consent = services.request_consent(subsystem=subsystem, rc=rc(), id_number=person.id_number, fields=list(fields),
                                       valid_until=extra.pop("valid_until", timezone.now() + timedelta(days=30)))
    services.decide_consent(actor=Actor.citizen(id_number=person.id_number, person_id=person.pk),
                            consent_id=consent.pk, approve=True)
    consent.refresh_from_db()
    return consent


@pytest.fixture(autouse=True)
def _clear_cache(db):  # the default cache is the database cache (issue #10)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def bank(db):
    return make_bank()


# --- eKYC -------------------------------------------------------------------------------------
def test_ekyc_answers_yes_no_per_attribute_and_records_the_access(bank, family):
    _agency, subsystem, _key = bank
    an = family["an"]
    result = services.verify_identity(subsystem=subsystem, rc=rc(), id_number=an.id_number,
                                      attributes={"full_name": "NGUYỄN  VĂN AN", "birth_date": "1990-05-12",
                                                  "sex": "F"})
    assert result.as_dict() == {"id_number": an.id_number, "match": False,
                                "attributes": {"full_name": True, "birth_date": True, "sex": False}}
    record = AccessRecord.objects.get(person_id_number=an.id_number, channel="ekyc")
    assert record.fields == ["birth_date", "full_name", "sex"] and record.purpose == PURPOSE
    assert record.actor.startswith("Giao dịch viên Lê Thu") and record.actor_unit == "Ngân hàng thử nghiệm"
    assert record.legal_basis == LEGAL


def test_ekyc_name_compare_keeps_diacritics(bank, family):
    _a, subsystem, _k = bank
    an = family["an"]
    result = services.verify_identity(subsystem=subsystem, rc=rc(), id_number=an.id_number,
                                      attributes={"full_name": "Nguyen Van An", "birth_date": "1990-05-12"})
    assert result.attributes == {"full_name": False, "birth_date": True} and not result.match


def test_ekyc_unknown_number_answers_all_no_and_records_nothing(bank, family):
    _a, subsystem, _k = bank
    result = services.verify_identity(subsystem=subsystem, rc=rc(), id_number="001090999999",
                                      attributes={"full_name": "Ai Đó", "birth_date": "1990-01-01"})
    assert result.as_dict()["match"] is False and result.attributes == {"full_name": False, "birth_date": False}
    assert not AccessRecord.objects.filter(channel="ekyc").exists()


def test_ekyc_requires_name_and_birth_date(bank, family):
    with pytest.raises(ValidationFailed) as exc:
        services.verify_identity(subsystem=bank[1], rc=rc(), id_number=family["an"].id_number,
                                 attributes={"full_name": "Nguyễn Văn An"})
    assert exc.value.errors()[0]["field"] == "birth_date"


def test_context_is_required(bank, family):
    with pytest.raises(ValidationFailed) as exc:
        services.verify_identity(subsystem=bank[1], rc=RequestContext(purpose="", legal_basis="", official=" "),
                                 id_number=family["an"].id_number,
                                 attributes={"full_name": "Nguyễn Văn An", "birth_date": "1990-05-12"})
    assert {e["field"] for e in exc.value.errors()} == {"context.purpose", "context.legal_basis", "context.official"}
    assert not AccessRecord.objects.filter(channel="ekyc").exists()


# --- attacks: field outside grant, expired grant ---------------------------------------------------
def test_field_outside_grant_is_refused_and_nothing_recorded(bank, family):
    _a, subsystem, _k = bank
    before = AccessRecord.objects.count()
    with pytest.raises(FieldNotGranted) as exc:
        services.person_data(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number,
                             fields=["full_name", "hometown"])
    assert exc.value.extra["fields"] == ["hometown"] and exc.value.status == 403
    with pytest.raises(FieldNotGranted):
        services.verify_identity(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number,
                                 attributes={"full_name": "Nguyễn Văn An", "birth_date": "1990-05-12",
                                             "religion": "Phật giáo"})
    assert AccessRecord.objects.count() == before


def test_expired_grant_is_refused(bank, family):
    _a, subsystem, _k = bank
    Grant.objects.filter(subsystem=subsystem, service="person_data").update(
        valid_from=timezone.now() - timedelta(days=10), expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(GrantExpired) as exc:
        services.person_data(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number, fields=["full_name"])
    assert exc.value.code == "grant_expired"


def test_revoked_grant_means_service_not_granted(bank, family):
    _a, subsystem, _k = bank
    for grant in Grant.objects.filter(subsystem=subsystem, service="life_status"):
        manage.revoke_grant(actor=ADMIN, grant=grant)
    with pytest.raises(ServiceNotGranted):
        services.life_status(subsystem=subsystem, rc=rc(), id_numbers=[family["an"].id_number])


def test_suspended_agency_is_refused(bank, family):
    agency, subsystem, _k = bank
    manage.set_agency_active(actor=ADMIN, agency=agency, active=False)
    subsystem.refresh_from_db()
    subsystem.agency.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.person_data(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number, fields=["full_name"])


def test_hidden_until_needs_a_confidential_grant(bank, family):
    _a, subsystem, _k = bank
    later = timezone.now() + timedelta(days=90)
    with pytest.raises(ConfidentialNotAllowed):
        services.person_data(subsystem=subsystem, rc=rc(hidden_until=later), id_number=family["an"].id_number,
                             fields=["full_name"])
    Grant.objects.filter(subsystem=subsystem, service="person_data").update(confidential_allowed=True)
    hotcache.invalidate()  # a grant changed in SQL: seen after POPID_HOT_CACHE_SECONDS, at once here
    services.person_data(subsystem=subsystem, rc=rc(hidden_until=later), id_number=family["an"].id_number,
                         fields=["full_name"])
    record = AccessRecord.objects.get(person_id_number=family["an"].id_number, channel="exchange")
    assert record.hidden_until == later


# --- person data and consent ----------------------------------------------------------------
def test_person_data_releases_exactly_the_requested_granted_fields(bank, family):
    _a, subsystem, _k = bank
    an = family["an"]
    data = services.person_data(subsystem=subsystem, rc=rc(), id_number=an.id_number,
                                fields=["full_name", "permanent_address"])
    assert set(data["fields"]) == {"full_name", "permanent_address"}
    assert data["fields"]["permanent_address"]["address"] == "12 Hàng Bạc"
    record = AccessRecord.objects.get(person_id_number=an.id_number, channel="exchange")
    assert record.fields == ["full_name", "permanent_address"] and record.consent_ref == ""


def test_sensitive_fields_need_consent(bank, family):
    _a, subsystem, _k = bank
    an = family["an"]
    with pytest.raises(ConsentRequired) as exc:
        services.person_data(subsystem=subsystem, rc=rc(), id_number=an.id_number, fields=["full_name", "blood_type"])
    assert exc.value.code == "consent_missing"
    consent = services.request_consent(subsystem=subsystem, rc=rc(), id_number=an.id_number,
                                       fields=["blood_type"], valid_until=timezone.now() + timedelta(days=10))
    with pytest.raises(ConsentPending):
        services.person_data(subsystem=subsystem, rc=rc(), id_number=an.id_number, fields=["blood_type"])
    citizen = Actor.citizen(id_number=an.id_number, person_id=an.pk)
    services.decide_consent(actor=citizen, consent_id=consent.pk, approve=False)
    with pytest.raises(ConsentRefused):
        services.person_data(subsystem=subsystem, rc=rc(), id_number=an.id_number, fields=["blood_type"])
    assert not AccessRecord.objects.filter(person_id_number=an.id_number, channel="exchange").exists()


def test_consent_releases_then_revocation_and_expiry_stop_it(bank, family):
    _a, subsystem, _k = bank
    an = family["an"]
    consent = approved_consent(subsystem, an)
    data = services.person_data(subsystem=subsystem, rc=rc(), id_number=an.id_number, fields=["blood_type", "phone"])
    assert data["consent_ref"] == consent.reference
    assert AccessRecord.objects.get(channel="exchange", person_id_number=an.id_number).consent_ref == consent.reference
    # another purpose is not covered by the consent
    with pytest.raises(ConsentRequired):
        services.person_data(subsystem=subsystem, rc=rc(purpose="Tiếp thị sản phẩm"), id_number=an.id_number,
                             fields=["phone"])
    DataConsent.objects.filter(pk=consent.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ConsentExpired):
        services.person_data(subsystem=subsystem, rc=rc(), id_number=an.id_number, fields=["phone"])
    DataConsent.objects.filter(pk=consent.pk).update(valid_until=timezone.now() + timedelta(days=1))
    services.revoke_consent(actor=Actor.citizen(id_number=an.id_number, person_id=an.pk), consent_id=consent.pk)
    with pytest.raises(ConsentRevoked):
        services.person_data(subsystem=subsystem, rc=rc(consent_ref=consent.reference), id_number=an.id_number,
                             fields=["phone"])


def test_consent_of_another_person_or_agency_cannot_be_used(bank, family):
    _a, subsystem, _k = bank
    consent = approved_consent(subsystem, family["binh"])
    with pytest.raises(ConsentRequired) as exc:
        services.person_data(subsystem=subsystem, rc=rc(consent_ref=consent.reference),
                             id_number=family["an"].id_number, fields=["phone"])
    assert exc.value.field == "context.consent_ref"
    _a2, other, _k2 = make_bank(code="bank2")
    with pytest.raises(ConsentRequired):
        services.person_data(subsystem=other, rc=rc(consent_ref=consent.reference),
                             id_number=family["binh"].id_number, fields=["phone"])


def test_citizen_can_only_decide_their_own_consents(bank, family):
    _a, subsystem, _k = bank
    consent = services.request_consent(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number,
                                       fields=["phone"], valid_until=timezone.now() + timedelta(days=10))
    stranger = Actor.citizen(id_number=family["binh"].id_number, person_id=family["binh"].pk)
    with pytest.raises(Exception) as exc:
        services.decide_consent(actor=stranger, consent_id=consent.pk, approve=True)
    assert exc.value.code == "consent_not_found"
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.PENDING


def test_consent_request_only_for_sensitive_granted_fields(bank, family):
    _a, subsystem, _k = bank
    with pytest.raises(ValidationFailed):
        services.request_consent(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number,
                                 fields=["full_name"], valid_until=timezone.now() + timedelta(days=10))
    with pytest.raises(FieldNotGranted):
        services.request_consent(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number,
                                 fields=["ethnicity"], valid_until=timezone.now() + timedelta(days=10))


def test_person_not_found(bank, db):
    with pytest.raises(PersonNotFound):
        services.person_data(subsystem=bank[1], rc=rc(), id_number="001090999999", fields=["full_name"])


# --- batch and life status ----------------------------------------------------------------------
def test_batch_verification_with_consent_errors_per_item(bank, family):
    _a, subsystem, _k = bank
    an, binh = family["an"], family["binh"]
    approved_consent(subsystem, an, fields=("phone",))
    items = [
        {"ref": "1", "id_number": an.id_number, "attributes": {"full_name": "Nguyễn Văn An", "birth_date": "1990-05-12",
                                                              "phone": an.phone or "0000"}},
        {"ref": "2", "id_number": binh.id_number, "attributes": {"full_name": "Trần Thị Bình", "phone": "0912"}},
        {"ref": "3", "id_number": "001090999999", "attributes": {"full_name": "X"}},
        {"ref": "4", "id_number": binh.id_number, "attributes": {"full_name": "Trần Thị Bình", "sex": "F"}},
    ]
    results = [r.as_dict() for r in services.verify_batch(subsystem=subsystem, rc=rc(), items=items)]
    assert results[0]["attributes"]["full_name"] is True and results[0]["ref"] == "1"
    assert results[1]["error"] == "consent_missing" and results[1]["match"] is False
    assert results[2] == {"id_number": "001090999999", "match": False, "attributes": {"full_name": False}, "ref": "3"}
    assert results[3]["match"] is True
    records = AccessRecord.objects.filter(channel="ekyc")
    assert sorted(r.person_id_number for r in records) == sorted([an.id_number, binh.id_number])


def test_batch_over_1000_is_413(bank, family):
    items = [{"id_number": family["an"].id_number, "attributes": {"full_name": "A"}}] * 1001
    with pytest.raises(BatchTooLarge) as exc:
        services.verify_batch(subsystem=bank[1], rc=rc(), items=items)
    assert exc.value.status == 413


def test_life_status(bank, family, admin_actor):
    from popid.registry import services as registry

    registry.record_death(actor=admin_actor, id_number=family["grandma"].id_number, died_on=timezone.localdate(),
                          reason="Khai tử")
    results = services.life_status(subsystem=bank[1], rc=rc(purpose="Chi trả trợ cấp"),
                                   id_numbers=[family["an"].id_number, family["grandma"].id_number, "001090999999"])
    assert [r["status"] for r in results] == ["alive", "deceased", "unknown"]
    assert AccessRecord.objects.filter(channel="exchange", fields=["life_status"]).count() == 2


# --- quotas ---------------------------------------------------------------------------------
def test_rate_limit_per_minute(db, family):
    _a, subsystem, _k = make_bank(rate=2)
    for _ in range(2):
        services.life_status(subsystem=subsystem, rc=rc(), id_numbers=[family["an"].id_number])
    with pytest.raises(Throttled) as exc:
        services.life_status(subsystem=subsystem, rc=rc(), id_numbers=[family["an"].id_number])
    assert exc.value.status == 429 and 1 <= exc.value.retry_after <= 61 and exc.value.code == "rate_limited"


def test_daily_quota_counts_persons(db, family):
    _a, subsystem, _k = make_bank(quota=3)
    services.life_status(subsystem=subsystem, rc=rc(), id_numbers=[family["an"].id_number, family["binh"].id_number])
    recorded = AccessRecord.objects.filter(channel="exchange").count()
    with pytest.raises(QuotaExceeded) as exc:
        services.life_status(subsystem=subsystem, rc=rc(), id_numbers=[family["an"].id_number] * 2)
    assert exc.value.code == "quota_exceeded" and exc.value.retry_after > 0
    assert AccessRecord.objects.filter(channel="exchange").count() == recorded  # rolled back: nothing released
    services.life_status(subsystem=subsystem, rc=rc(), id_numbers=[family["an"].id_number])  # exactly the quota


# --- management -----------------------------------------------------------------------------
def test_only_admins_manage_agencies(db, actor_hoan_kiem):
    with pytest.raises(PermissionDenied):
        manage.create_agency(actor=actor_hoan_kiem, code="x1", name="X")


def test_grant_validation(bank):
    _a, subsystem, _k = bank
    later = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationFailed):
        manage.create_grant(actor=ADMIN, subsystem=subsystem, service="person_data", fields=["nope"],
                            legal_basis=LEGAL, expires_at=later)
    with pytest.raises(ValidationFailed):
        manage.create_grant(actor=ADMIN, subsystem=subsystem, service="ekyc", fields=["permanent_address"],
                            legal_basis=LEGAL, expires_at=later)
    with pytest.raises(ValidationFailed):
        manage.create_grant(actor=ADMIN, subsystem=subsystem, service="person_data", fields=["full_name"],
                            legal_basis=LEGAL, expires_at=timezone.now() - timedelta(days=1))
    with pytest.raises(ValidationFailed):
        manage.create_subsystem(actor=ADMIN, agency=subsystem.agency, code="bad", name="Bad",
                                jwks={"keys": [ECKey.generate_key("P-256", private=True).as_dict(private=True)]})


def test_agency_cli(db, tmp_path, capsys):
    key = ECKey.generate_key("P-256", private=True)
    jwk_file = tmp_path / "pub.json"
    jwk_file.write_text(__import__("json").dumps(key.as_dict(private=False)))
    call_command("agency", "create", "--code", "bv-bachmai", "--name", "Bệnh viện Bạch Mai", "--kind", "hospital")
    call_command("agency", "add-subsystem", "--agency", "bv-bachmai", "--code", "his", "--name", "HIS",
                 "--jwk-file", str(jwk_file))
    call_command("agency", "grant", "--agency", "bv-bachmai", "--subsystem", "his", "--service", "person_data",
                 "--fields", "full_name,blood_type", "--legal-basis", "Luật Khám bệnh, chữa bệnh 2023",
                 "--expires", "2030-12-31")
    capsys.readouterr()
    call_command("agency", "list")
    listing = __import__("json").loads(capsys.readouterr().out)
    grant = listing[0]["subsystems"][0]["grants"][0]
    assert grant["fields"] == ["blood_type", "full_name"] and grant["state"] == "active"
    call_command("agency", "revoke", str(grant["id"]))
    assert Grant.objects.get(pk=grant["id"]).revoked_at is not None
    new_key = ECKey.generate_key("P-256", private=True, parameters={"kid": "his-2"})
    jwk_file.write_text(__import__("json").dumps({"keys": [new_key.as_dict(private=False)]}))
    call_command("agency", "set-key", "--agency", "bv-bachmai", "--subsystem", "his", "--jwk-file", str(jwk_file))
    assert Subsystem.objects.get(code="his").client.jwks["keys"][0]["kid"] == "his-2"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("quota", "admitted"), [(1000, 40), (25, 25)])
def test_daily_quota_is_exact_under_concurrency(quota, admitted):
    """First use of the day from 8 threads at once: nobody is refused below the quota (the
    day's row is created concurrently) and exactly the quota is admitted above it."""
    import threading

    from django.db import connection

    from popid.exchange import throttle

    agency = manage.create_agency(actor=ADMIN, code="conc", name="Đồng thời", daily_quota=quota)
    barrier = threading.Barrier(8)
    outcomes: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                try:
                    throttle.charge_quota(agency, 1)
                    ok = True
                except QuotaExceeded:
                    ok = False
                with lock:
                    outcomes.append(ok)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 40 and outcomes.count(True) == admitted and throttle.usage_today(agency) == admitted
