"""Pages: establishment staff read an MRZ into the form, declare, see guests, declare departure,
upload CSV; other establishments refused; the police console lists present guests, overstays
and watch-list hits (access-recorded); strict CSP holds (no inline script)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from popid.core.models import AccessRecord
from popid.immigration import services
from popid.immigration.models import Stay, WatchHit
from tests.immigration.fixtures import guest_mrz, hotels_fixture  # noqa: F401
from tests.services.test_services_citizen import login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def _arrival_post(**extra):
    return {"action": "declare", "mrz": guest_mrz(), "sex": "X", "visa_kind": "e_visa", "visa_entries": "single",
            "arrival_at": timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), **extra}


def test_staff_home_lists_linked_establishments_only(client, hotels):
    response = login(client, hotels["staff"]).get("/luu-tru/")
    assert response.status_code == 200
    assert "Khách sạn Hồ Gươm".encode() in response.content and "Nhà nghỉ Cửa Nam".encode() not in response.content


def test_read_mrz_fills_the_form_without_saving(client, hotels):
    response = login(client, hotels["staff"]).post("/luu-tru/ks-hoan-kiem/", _arrival_post(action="read"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="DUPONT"' in html and 'value="X1234567"' in html and 'value="2030-05-01"' in html
    assert not Stay.objects.exists()
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert re.findall(rb"<script[^>]*>", response.content) == [b'<script src="/static/web/portal.js" defer>',
                                                               b'<script src="/static/web/pwa.js" defer>']


def test_read_bad_mrz_names_the_check(client, hotels):
    bad = guest_mrz()[:-1] + "0"
    response = login(client, hotels["staff"]).post("/luu-tru/ks-hoan-kiem/", _arrival_post(action="read", mrz=bad))
    assert response.status_code == 422 and "composite_check_digit" in response.content.decode()


def test_declare_arrival_then_departure(client, hotels):
    c = login(client, hotels["staff"])
    response = c.post("/luu-tru/ks-hoan-kiem/", _arrival_post(visa_number="EV123",
                                                                visa_valid_until=str(date.today() + timedelta(20))))
    assert response.status_code == 302
    stay = Stay.objects.get()
    assert stay.channel == "web" and stay.person.visas.get().number == "EV123"
    page = c.get("/luu-tru/ks-hoan-kiem/")
    assert b"X1234567" in page.content
    earlier = timezone.localtime(stay.arrival_at - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    c.post("/luu-tru/ks-hoan-kiem/khach-di/", {"stay": stay.pk, "departure_at": earlier})
    stay.refresh_from_db()
    assert stay.departure_at is None  # departure before arrival refused
    c.post("/luu-tru/ks-hoan-kiem/khach-di/", {"stay": stay.pk,
                                               "departure_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    stay.refresh_from_db()
    assert stay.departure_at is not None


def test_expired_passport_shown_on_the_form(client, hotels):
    response = login(client, hotels["staff"]).post("/luu-tru/ks-hoan-kiem/",
                                                     _arrival_post(mrz=guest_mrz(expiry=date(2025, 1, 1))))
    assert response.status_code == 422 and "Hộ chiếu đã hết hạn".encode() in response.content
    assert not Stay.objects.exists()


def test_other_establishment_page_refused(client, hotels):
    c = login(client, hotels["staff"])
    assert c.get("/luu-tru/nn-cua-nam/").status_code == 403
    assert c.post("/luu-tru/nn-cua-nam/", _arrival_post()).status_code == 403
    assert not Stay.objects.exists()


def test_csv_upload_reports_lines(client, hotels):
    text = ("event,nationality,document_number,surname,given_names,birth_date,sex,document_expiry,at,room\n"
            "arrival,DEU,B2222222,MULLER,HANS,1980-01-01,M,2031-01-01,2026-12-06T18:30,102\n"
            "arrival,DEU,B3333333,MULLER,HANS,1980-01-01,M,2020-01-01,2026-12-06T18:30,103\n")
    upload = SimpleUploadedFile("khach.csv", text.encode(), content_type="text/csv")
    response = login(client, hotels["staff"]).post("/luu-tru/ks-hoan-kiem/tep-csv/", {"file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert "passport_expired" in html and "<td>3</td>" in html
    assert Stay.objects.get().channel == "csv"


def test_police_console(client, hotels, officer_hoan_kiem, officer_hcm, admin_actor):
    services.add_watch_entry(actor=admin_actor, nationality="FRA", document_number="X1234567", surname="Dupont",
                             reason="Theo dõi thử nghiệm")
    services.declare_arrival(declarant=hotels["declarant"], establishment_code="ks-hoan-kiem",
                             guest=services.guest_from_mrz(guest_mrz()), arrival_at=timezone.now() - timedelta(days=9),
                             visa=services.VisaIn(number="EV1", valid_from=date.today() - timedelta(days=10),
                                                  valid_until=date.today() - timedelta(days=2)))
    services.compute_overstays()
    client.force_login(officer_hoan_kiem)
    home = client.get("/xuat-nhap-canh/")
    html = home.content.decode()
    assert home.status_code == 200 and "DUPONT" in html and "Theo dõi thử nghiệm" in html
    present = client.get("/xuat-nhap-canh/xa/00070/")
    assert present.status_code == 200 and b"X1234567" in present.content
    history = client.post("/xuat-nhap-canh/tra-cuu/", {"nationality": "FRA", "document_number": "X1234567"})
    assert history.status_code == 200 and "Khách sạn Hồ Gươm" in history.content.decode()
    assert AccessRecord.objects.filter(person_id_number="FRAX1234567", channel="console").count() >= 3
    hit = WatchHit.objects.get()
    client.post(f"/xuat-nhap-canh/doi-chieu/{hit.pk}/xem-xet/", {"note": "Đã xác minh, không phải đối tượng"})
    hit.refresh_from_db()
    assert hit.status == "reviewed" and hit.reviewed_by == "cb.hoankiem"
    mrz_page = client.post("/xuat-nhap-canh/mrz/", {"mrz": guest_mrz()[:-1] + "0"})
    assert mrz_page.status_code == 422 and b"composite_check_digit" in mrz_page.content
    client.force_login(officer_hcm)
    assert client.get("/xuat-nhap-canh/xa/00070/").status_code == 404
    assert client.post("/xuat-nhap-canh/tra-cuu/", {"nationality": "FRA", "document_number": "X1234567"}
                       ).status_code == 404
    assert b"DUPONT" not in client.get("/xuat-nhap-canh/").content
