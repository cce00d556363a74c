"""Supervisors told about a new alert through the outbox consumer (idempotent, by jurisdiction),
their notification list; the staffing view (dossier forecast against officers and legal
deadlines) with its assumptions, jurisdiction and bad input."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pyarrow as pa
import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from popid.analytics import forecast as fc
from popid.analytics import selectors, services, synthetic
from popid.analytics.errors import BadStaffingAssumption, NoticeNotFound, OutsideJurisdiction
from popid.analytics.models import Alert, AlertNotice
from popid.analytics.schema import SCHEMAS
from popid.analytics.store import Staged, Store
from popid.core import outbox
from popid.core.access import Actor
from popid.core.models import StaffRole
from popid.services.models import Dossier
from tests.conftest import make_staff
from tests.ops.test_ops_tasks import run_worker

from .conftest import AS_OF, load

LAST_WEEK = fc.last_complete_week(AS_OF)
NEXT_WEEK = LAST_WEEK + timedelta(weeks=1)


def raise_alert(commune: str = "00070") -> Alert:
    """What ``services.raise_alerts`` does for one outlier: the alert and its event, one transaction."""
    with transaction.atomic():
        alert = Alert.objects.create(commune_code=commune, province_code="01", category="incident",
                                     week_start=LAST_WEEK, observed=60, expected=12, lower=4, upper=22,
                                     model="Harmonic")
        outbox.emit(topic="analytics.alert_raised", aggregate_id=str(alert.pk),
                    payload={"commune_code": commune, "category": "incident", "week": LAST_WEEK.isoformat()})
    return alert


@pytest.mark.django_db
def test_alert_reaches_the_supervisors_whose_unit_covers_the_commune_once(supervisor_nation, officer_hoan_kiem):
    commune_sup = make_staff("gs.hoankiem", role="supervisor", level="commune", unit_code="00070", unit_name="HK")
    province_sup = make_staff("gs.hanoi", role="supervisor", level="province", unit_code="01", unit_name="HN")
    make_staff("gs.hcm", role="supervisor", level="province", unit_code="79", unit_name="HCM")
    gone = make_staff("gs.hanoi.cu", role="supervisor", level="province", unit_code="01", unit_name="HN")
    gone.is_active = False
    gone.save()
    alert = raise_alert()
    run_worker()
    assert set(AlertNotice.objects.filter(alert=alert).values_list("user__username", flat=True)) == {
        "gs.hoankiem", "gs.hanoi"}  # not the officer, not another province, not an inactive account
    # the consumer may run twice (replay after a crash): still one notice each
    outbox.replay(from_id=0, consumers=["popid.analytics.tasks.notify_supervisors"])
    run_worker()
    assert AlertNotice.objects.filter(alert=alert).count() == 2
    assert services.notify_supervisors(alert_id=alert.pk) == 0
    # the supervisor sees it, unread, and marks it read; another user cannot touch it
    actor = Actor.for_user(province_sup)
    assert selectors.unread_notices(actor) == 1 and selectors.notices_for(actor)[0].alert == alert
    notice = AlertNotice.objects.get(user=commune_sup)
    with pytest.raises(NoticeNotFound):
        services.mark_notice_read(actor=actor, notice_id=notice.pk)
    services.mark_notice_read(actor=Actor.for_user(commune_sup), notice_id=notice.pk)
    assert selectors.unread_notices(Actor.for_user(commune_sup)) == 0 and selectors.unread_notices(actor) == 1
    # a supervisor moved to another province no longer sees the old unit's notices
    StaffRole.objects.filter(user=province_sup).update(unit_code="79")
    province_sup.refresh_from_db()
    assert selectors.notices_for(Actor.for_user(province_sup)) == []


@pytest.mark.django_db
def test_alert_with_no_local_supervisor_goes_to_the_nation_and_a_vanished_alert_to_nobody(supervisor_nation):
    alert = raise_alert("00004")
    run_worker()
    assert list(AlertNotice.objects.values_list("user__username", flat=True)) == ["gs.bocongan"]
    assert services.notify_supervisors(alert_id=alert.pk + 1000) == 0


@pytest.mark.django_db
def test_notice_pages(supervisor_nation):
    raise_alert()
    run_worker()
    client = Client()
    client.force_login(supervisor_nation)
    page = client.get("/phan-tich/thong-bao/")
    assert page.status_code == 200 and "Phường Hoàn Kiếm" in page.content.decode()
    notice = AlertNotice.objects.get()
    assert client.get(f"/phan-tich/thong-bao/{notice.pk}/da-doc/").status_code == 405  # POST only
    assert client.post(f"/phan-tich/thong-bao/{notice.pk}/da-doc/").status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert client.post(f"/phan-tich/thong-bao/{notice.pk + 99}/da-doc/").status_code == 404


# --- staffing ------------------------------------------------------------------------------------
def _forecast_rows(commune: str, mean: float, hi80: float) -> list[dict]:
    return [{"category": "dossier", "commune_code": commune, "province_code": "01",
             "ds": NEXT_WEEK + timedelta(weeks=i), "mean": mean, "lo80": mean / 2, "hi80": hi80, "lo95": 0.0,
             "hi95": hi80 * 1.5, "model": "Harmonic", "mase": 0.8, "mase_naive": 1.1, "status": "ok"}
            for i in range(fc.HORIZON)]


@pytest.fixture
def staffing_store(store) -> Store:
    """Eight weeks of dossiers in Hoàn Kiếm: 60 % permanent residence (7 working days), 40 %
    residence confirmation (1 day); next week's forecast: 50 dossiers (80 % up to 70)."""
    rows = []
    for day in range(56):
        when = LAST_WEEK + timedelta(days=6 - day)
        rows.append({"category": "dossier", "subcategory": "permanent_residence", "commune_code": "00070",
                     "province_code": "01", "day": when, "n": 3, "source": "synthetic"})
        rows.append({"category": "dossier", "subcategory": "residence_confirmation", "commune_code": "00070",
                     "province_code": "01", "day": when, "n": 2, "source": "synthetic"})
    staged = Staged()
    store.stage("daily", pa.Table.from_pylist(rows, schema=SCHEMAS["daily"]), staged)
    store.stage("forecasts", pa.Table.from_pylist(_forecast_rows("00070", 50.0, 70.0), schema=SCHEMAS["forecasts"]),
                staged)
    store.publish(staged)
    return store


@pytest.mark.django_db
def test_staffing_needs_against_officers_and_deadlines(staffing_store, family, officer_hoan_kiem,
                                                       officer_hanoi_province):
    make_staff("cb.hoankiem2", role="officer", level="commune", unit_code="00070", unit_name="HK")
    # two open dossiers falling due next week (2 h each by default), one already decided
    for i, state in enumerate(("submitted", "in_review", "approved")):
        Dossier.objects.create(code=f"T{i}", procedure_code="permanent_residence", subject=family["an"],
                               channel="counter", state=state, commune_code="00070", province_code="01",
                               received_at=timezone.make_aware(datetime.combine(LAST_WEEK, time(9))),
                               deadline=NEXT_WEEK + timedelta(days=2))
    province = Actor.for_user(officer_hanoi_province)
    [row] = selectors.staffing_for(province, unit="01", store=staffing_store, as_of=AS_OF)
    assert row.commune_code == "00070" and row.week == NEXT_WEEK and row.dossiers == 50.0
    assert dict(row.mix) == pytest.approx({"permanent_residence": 0.6, "residence_confirmation": 0.4})
    # per forecast dossier: 0.6 × 2 h × 5/7 (7-day deadline) + 0.4 × 0.5 h × 1 (1-day deadline)
    per = 0.6 * 2.0 * 5 / 7 + 0.4 * 0.5
    assert row.hours_new == pytest.approx(round(50 * per, 1))
    assert row.hours_new_hi80 == pytest.approx(round(70 * per, 1))
    assert row.backlog == 2 and row.hours_backlog == 4.0
    assert row.officers == 2 and row.capacity == 2 * 40 * 0.5
    assert row.gap == pytest.approx(row.needed - 40.0) and row.gap > 0
    # the assumptions change the answer: 4 officers' worth of hours is enough
    more = selectors.StaffingAssumptions.from_query({"gio_can_bo": "80", "ty_le_ho_so": "1"})
    [relaxed] = selectors.staffing_for(province, unit="01", assumptions=more, store=staffing_store, as_of=AS_OF)
    assert relaxed.capacity == 160.0 and relaxed.gap < 0 and relaxed.spare == pytest.approx(-relaxed.gap)
    # a commune with no dossier data says so; outside the jurisdiction reads like a missing unit
    [empty] = selectors.staffing_for(province, unit="00004", store=staffing_store, as_of=AS_OF)
    assert empty.status == "no_data" and empty.dossiers is None and empty.needed == 0
    with pytest.raises(OutsideJurisdiction):
        selectors.staffing_for(Actor.for_user(officer_hoan_kiem), unit="01", store=staffing_store)
    with pytest.raises(OutsideJurisdiction):
        selectors.staffing_for(province, unit="26740", store=staffing_store)


@pytest.mark.parametrize("query", [{"gio_can_bo": "abc"}, {"gio_can_bo": "0"}, {"ty_le_ho_so": "1.5"},
                                   {"gio_permanent_residence": "-1"}, {"gio_passport": "nan"}])
def test_staffing_assumptions_refuse_bad_numbers(query):
    with pytest.raises(BadStaffingAssumption):
        selectors.StaffingAssumptions.from_query(query)


def test_staffing_assumptions_accept_a_decimal_comma():
    a = selectors.StaffingAssumptions.from_query({"gio_permanent_residence": "1,5", "ty_le_ho_so": ""})
    assert a.hours("permanent_residence") == 1.5 and a.dossier_share == 0.5 and a.hours("unknown") == 1.0


@pytest.mark.django_db
def test_staffing_page(settings, tmp_path, officer_hoan_kiem):
    settings.DATA_DIR = str(tmp_path)
    load(Store(), synthetic.generate(communes=["00070"], end=fc.today(), weeks=20, seed=2, anomaly_rate=0))
    client = Client()
    client.force_login(officer_hoan_kiem)
    page = client.get("/phan-tich/nhan-luc/")
    html = page.content.decode()
    assert page.status_code == 200 and "Phường Hoàn Kiếm" in html and "Giờ công mỗi hồ sơ" in html
    assert "Đăng ký thường trú" in html  # the assumptions name the procedures
    assert client.get("/phan-tich/nhan-luc/?don_vi=01").status_code == 404
    assert client.get("/phan-tich/nhan-luc/?gio_can_bo=x").status_code == 422
