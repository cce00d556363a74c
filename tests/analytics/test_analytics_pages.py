"""The situation pages: charts with a table beside each, no inline style or data: URI (strict
CSP), the province officer's view, refusals outside the jurisdiction, acknowledgement by POST."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from popid.analytics import forecast as fc
from popid.analytics import synthetic
from popid.analytics.models import Alert
from popid.analytics.store import Store
from tests.conftest import make_staff

from .conftest import load


@pytest.fixture
def live_store(settings, tmp_path):
    settings.DATA_DIR = str(tmp_path)
    store = Store()
    load(store, synthetic.generate(communes=["00070", "00004"], end=fc.today(), weeks=60, seed=2, anomaly_rate=0))
    return store


@pytest.mark.django_db
def test_province_officer_sees_the_situation(live_store, officer_hanoi_province):
    client = Client()
    client.force_login(officer_hanoi_province)
    page = client.get("/phan-tich/?loai=incident")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") == 3  # weekly trend, hot-spot map, day × hour
    assert html.count("<svg") <= html.count("<table")  # a table beside every chart
    assert "Phường Hoàn Kiếm" in html and "Cùng kỳ năm trước" in html
    assert not re.search(r"\sstyle=", html) and "<style" not in html and "data:" not in html
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]
    dossiers = client.get("/phan-tich/?don_vi=00070&loai=dossier")
    assert dossiers.status_code == 200 and dossiers.content.decode().count("<svg") == 1  # no place, no map


@pytest.mark.django_db
def test_pages_refuse_outside_jurisdiction_and_unknown_input(live_store, officer_hoan_kiem):
    client = Client()
    client.force_login(officer_hoan_kiem)
    assert client.get("/phan-tich/").status_code == 200  # their own commune
    assert client.get("/phan-tich/?don_vi=01").status_code == 404  # a commune officer cannot see the province
    assert client.get("/phan-tich/?don_vi=26740").status_code == 404
    assert client.get("/phan-tich/du-bao/26740/incident/").status_code == 404
    assert client.get("/phan-tich/?loai=person").status_code == 404
    forecast = client.get("/phan-tich/du-bao/00070/incident/")
    assert forecast.status_code == 200 and "chưa có dự báo" in forecast.content.decode().lower()


@pytest.mark.django_db
def test_acknowledge_by_post_only_for_supervisors(live_store, officer_hoan_kiem):
    alert = Alert.objects.create(commune_code="00070", province_code="01", category="incident",
                                 week_start=fc.last_complete_week(), observed=60, expected=12, lower=4, upper=22,
                                 model="AutoETS", evidence={"previous_weeks": []})
    officer = Client()
    officer.force_login(officer_hoan_kiem)
    assert officer.post(f"/phan-tich/canh-bao/{alert.pk}/xac-nhan/").status_code == 403
    supervisor = Client()
    supervisor.force_login(make_staff("gs.hanoi", role="supervisor", level="province", unit_code="01",
                                      unit_name="Công an TP Hà Nội"))
    assert supervisor.get(f"/phan-tich/canh-bao/{alert.pk}/xac-nhan/").status_code == 405
    response = supervisor.post(f"/phan-tich/canh-bao/{alert.pk}/xac-nhan/", {"note": "Đã kiểm tra"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == "gs.hanoi"
    page = supervisor.get(response["Location"])
    assert "Đã kiểm tra" in page.content.decode()
