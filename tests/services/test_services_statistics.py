"""Public-service statistics: figures checked against a hand-counted set of dossiers (expected
numbers are written out below, not computed by the code under test), the jurisdiction of each
actor, the API and the console page."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.urls import reverse

from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.services import dossiers
from popid.services.calendar import LOCAL_TZ
from popid.services.models import Dossier
from popid.services.statistics import report
from tests.conftest import CUA_NAM, HCM_COMMUNE, HOAN_KIEM, bearer
from tests.services.test_services_workflow import PDF, make_account, temp_data
from tests.web.test_web import assert_no_inline_code

TODAY = date(2026, 6, 30)
PERIOD = {"date_from": date(2026, 5, 1), "date_to": date(2026, 6, 30), "today": TODAY}


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ)


# (commune, channel, state, received, deadline, decided, procedure)
KNOWN = [
    (HOAN_KIEM, "online", "approved", at(5, 4), date(2026, 5, 7), at(5, 6, 10)),         # 1 on time, 49 h
    (HOAN_KIEM, "counter", "approved", at(5, 11), date(2026, 5, 14), at(5, 18)),         # 2 late, 168 h
    (HOAN_KIEM, "online", "rejected", at(6, 1), date(2026, 6, 4), at(6, 2)),             # 3 on time, 24 h
    (HOAN_KIEM, "online", "submitted", at(6, 10), date(2026, 6, 15), None),              # 4 open, overdue
    (HOAN_KIEM, "online", "in_review", at(6, 29), date(2026, 7, 2), None),               # 5 open, in time
    (HOAN_KIEM, "online", "cancelled", at(6, 5), date(2026, 6, 10), at(6, 6)),           # 6 not measured
    (CUA_NAM, "counter", "approved", at(5, 20), date(2026, 5, 25), at(5, 26, 1)),        # 7 late (local date), 136 h
    (CUA_NAM, "counter", "submitted", at(6, 20), date(2026, 6, 25), None),               # 8 open, overdue
    (HCM_COMMUNE, "online", "approved", at(6, 2), date(2026, 6, 5), at(6, 5, 16)),       # 9 on time, 79 h
    (HCM_COMMUNE, "online", "submitted", at(6, 2), date(2026, 6, 2), None, "stay_notification"),  # 10 no deadline
    (HOAN_KIEM, "online", "approved", at(4, 20), date(2026, 4, 23), at(4, 21)),          # 11 before the period
]


@pytest.fixture
def known(family):
    """The dossiers above, submitted through the workflow service, then set to the listed state and
    times (the workflow stamps "now"; statistics need a known past)."""
    account = make_account(family["an"])
    for i, (commune, channel, state, received, deadline, decided, *procedure) in enumerate(KNOWN):
        dossier, _created = dossiers.submit_dossier(
            account=account, procedure_code="temporary_residence", data=temp_data(commune_code=commune),
            idempotency_key=f"stat-{i}",
            attachments=[dossiers.IncomingFile("proof_of_residence", "a.pdf", PDF, "application/pdf")])
        Dossier.objects.filter(pk=dossier.pk).update(
            channel=channel, state=state, received_at=received, deadline=deadline, decided_at=decided,
            procedure_code=procedure[0] if procedure else "temporary_residence")
    return account


def figures(f) -> tuple:
    return (f.received, f.online, f.counter, f.online_rate, f.decided, f.decided_on_time, f.open_overdue,
            f.on_time_rate, f.avg_processing_days)


def test_national_totals_match_the_hand_count(known, supervisor_nation):
    r = report(actor=Actor.for_user(supervisor_nation), **PERIOD)
    # received 1-10; online 1,3,4,5,6,9,10; decided (measured) 1,2,3,7,9 of which 1,3,9 on time;
    # overdue and open 4,8 (10 has no deadline); processing (49+168+24+136+79)/5 h = 91.2 h = 3.8 days.
    assert figures(r.totals) == (10, 7, 3, 70.0, 5, 3, 2, 42.9, 3.8)
    assert r.scope_level == "nation"


def test_units_are_ranked_by_on_time_rate_then_online_rate(known, supervisor_nation):
    r = report(actor=Actor.for_user(supervisor_nation), **PERIOD)
    assert [(u.rank, u.commune_code) for u in r.units] == [(1, HCM_COMMUNE), (2, HOAN_KIEM), (3, CUA_NAM)]
    by_code = {u.commune_code: figures(u.figures) for u in r.units}
    assert by_code[HOAN_KIEM] == (6, 5, 1, 83.3, 3, 2, 1, 50.0, 3.35)  # (49+168+24)/3 h
    assert by_code[CUA_NAM] == (2, 0, 2, 0.0, 1, 0, 1, 0.0, 5.67)  # decided 01:00 the day after the deadline
    assert by_code[HCM_COMMUNE] == (2, 2, 0, 100.0, 1, 1, 0, 100.0, 3.29)
    assert r.units[0].province_name == "Thành phố Hồ Chí Minh"
    assert {p.province_code: figures(p.figures) for p in r.provinces} == {
        "01": (8, 5, 3, 62.5, 4, 2, 2, 33.3, 3.93),
        "79": (2, 2, 0, 100.0, 1, 1, 0, 100.0, 3.29),
    }
    assert [p.province_code for p in r.provinces] == ["79", "01"]


def test_monthly_and_weekly_trend(known, supervisor_nation):
    actor = Actor.for_user(supervisor_nation)
    r = report(actor=actor, **PERIOD)
    assert [(p.label, figures(p.figures)[:3], p.figures.on_time_rate) for p in r.trend] == [
        ("05/2026", (3, 1, 2), 33.3), ("06/2026", (7, 6, 1), 50.0)]
    weekly = report(actor=actor, granularity="week", **PERIOD)
    assert weekly.trend[0].start == date(2026, 4, 27) and weekly.trend[-1].start == date(2026, 6, 29)
    counts = {p.start: p.figures.received for p in weekly.trend}
    assert counts[date(2026, 5, 4)] == 1 and counts[date(2026, 6, 1)] == 4 and counts[date(2026, 5, 25)] == 0
    assert sum(counts.values()) == 10


def test_jurisdiction_limits_the_report(known, officer_hoan_kiem, officer_hanoi_province, officer_hcm):
    commune = report(actor=Actor.for_user(officer_hoan_kiem), **PERIOD)
    assert commune.totals.received == 6 and [u.commune_code for u in commune.units] == [HOAN_KIEM]
    province = report(actor=Actor.for_user(officer_hanoi_province), **PERIOD)
    assert province.totals.received == 8 and {u.commune_code for u in province.units} == {HOAN_KIEM, CUA_NAM}
    narrowed = report(actor=Actor.for_user(officer_hanoi_province), commune_code=CUA_NAM, **PERIOD)
    assert narrowed.totals.received == 2 and narrowed.scope_name.startswith("Phường Cửa Nam")
    with pytest.raises(PermissionDenied):
        report(actor=Actor.for_user(officer_hoan_kiem), commune_code=HCM_COMMUNE, **PERIOD)
    with pytest.raises(PermissionDenied):
        report(actor=Actor.for_user(officer_hanoi_province), province_code="79", **PERIOD)
    with pytest.raises(PermissionDenied):
        report(actor=Actor.for_user(officer_hcm), province_code="79", **PERIOD)  # a commune sees its commune only


def test_bad_filters_are_refused(known, supervisor_nation):
    actor = Actor.for_user(supervisor_nation)
    with pytest.raises(ValidationFailed):
        report(actor=actor, date_from=date(2026, 6, 1), date_to=date(2026, 5, 1), today=TODAY)
    with pytest.raises(ValidationFailed):
        report(actor=actor, granularity="day", **PERIOD)
    with pytest.raises(ValidationFailed):
        report(actor=actor, commune_code="99999", **PERIOD)


def test_api_returns_the_report_for_the_actors_scope(client, known, officer_hanoi_province, officer_hoan_kiem):
    query = {"date_from": "2026-05-01", "date_to": "2026-06-30"}
    response = client.get("/api/v1/services/statistics", query, headers=bearer(officer_hanoi_province))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"]["level"] == "province" and body["totals"]["received"] == 8
    assert body["totals"]["online_rate"] == 62.5
    assert [u["commune_code"] for u in body["units"]] == [HOAN_KIEM, CUA_NAM]
    assert [t["start"] for t in body["trend"]] == ["2026-05-01", "2026-06-01"]
    ranking = client.get("/api/v1/services/statistics/ranking", query, headers=bearer(officer_hanoi_province))
    assert ranking.status_code == 200 and ranking.json()[0]["rank"] == 1
    trend = client.get("/api/v1/services/statistics/trend", {**query, "granularity": "week"},
                       headers=bearer(officer_hanoi_province))
    assert trend.status_code == 200 and trend.json()[0]["start"] == "2026-04-27"
    refused = client.get("/api/v1/services/statistics", {**query, "commune": HCM_COMMUNE},
                         headers=bearer(officer_hoan_kiem))
    assert refused.status_code == 403 and refused["Content-Type"].startswith("application/problem+json")
    bad = client.get("/api/v1/services/statistics", {"date_from": "2026-07-01", "date_to": "2026-06-01"},
                     headers=bearer(officer_hoan_kiem))
    assert bad.status_code == 422
    assert client.get("/api/v1/services/statistics").status_code == 401


def test_console_page_shows_figures_ranking_and_chart(client, known, supervisor_nation):
    client.force_login(supervisor_nation)
    response = client.get(reverse("services:statistics"), {"date_from": "2026-05-01", "date_to": "2026-06-30"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thống kê dịch vụ công" in html and "<svg" in html
    assert "70,0" in html or "70.0" in html  # online rate
    assert html.index("Phường Sài Gòn") < html.index("Phường Hoàn Kiếm") < html.index("Phường Cửa Nam")
    assert reverse("services:statistics") in html  # the console nav links the page
    assert_no_inline_code(html)
    bad = client.get(reverse("services:statistics"), {"date_from": "2026-07-01", "date_to": "2026-06-01"})
    assert bad.status_code == 200 and "Ngày kết thúc phải sau ngày bắt đầu" in bad.content.decode()


def test_console_page_refuses_a_unit_outside_the_jurisdiction(client, known, officer_hoan_kiem):
    client.force_login(officer_hoan_kiem)
    response = client.get(reverse("services:statistics"), {"commune": HCM_COMMUNE})
    assert response.status_code == 403
    assert "Phường Sài Gòn" not in response.content.decode()
