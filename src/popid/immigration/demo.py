"""Demo data for ``popid seed`` (idempotent): three establishments (a hotel and a guest house in
Phường Hoàn Kiếm, a homestay in a remote area), the demo citizen Nguyễn Văn An as the hotel's
receptionist, foreign guests declared from MRZ lines through the same commands as the pages,
one guest whose e-visa has expired (an overstay alert), a watch-list entry with a hit for the
police of Hoàn Kiếm to review (found exactly), a second entry written another way (name order
swapped, day and month of birth swapped) that only the matcher finds, a temporary residence card,
and a passport for Nguyễn Văn An (which he can add to the wallet or declare lost on /ho-chieu/)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from popid.core import admin_units
from popid.core.access import Actor
from popid.identity.demo import FIXTURE_BIRTH_DATE, FIXTURE_COMMUNE, FIXTURE_NAME
from popid.identity.models import CitizenAccount
from popid.immigration import mrz, screening, services
from popid.immigration.models import Establishment, Passport, Stay, TemporaryResidenceCard, WatchListEntry

HOTEL, GUEST_HOUSE, HOMESTAY = "ks-demo-ho-guom", "nn-demo-hang-bac", "homestay-demo-vung-cao"
GUESTS = [  # number, nationality, surname, given names, birth date, sex, establishment, hours ago, visa days left
    ("125583109", "GBR", "Smith", "Olivia", date(1991, 4, 2), "F", HOTEL, 3, 40),
    ("533380006", "USA", "Johnson", "Michael", date(1979, 11, 23), "M", HOTEL, 15, 60),
    ("TR0912345", "JPN", "Sato", "Haruto", date(1996, 7, 9), "M", GUEST_HOUSE, 2, -4),  # overstay
    ("PA1234567", "KOR", "Kim", "Ji Woo", date(2000, 1, 30), "F", GUEST_HOUSE, 30, 20),
]


def _mrz(number: str, nationality: str, surname: str, given: str, birth: date, sex: str) -> str:
    lines = mrz.passport_mrz(document_number=number, surname=surname, given_names=given, birth_date=birth, sex=sex,
                             expiry_date=date(timezone.localdate().year + 6, 3, 1), issuing_state=nationality,
                             nationality=nationality)
    return "\n".join(lines)


def ensure_demo() -> list[str]:
    if not admin_units.is_active_commune(FIXTURE_COMMUNE):
        return []
    actor = Actor.system("seed")
    with transaction.atomic():
        if not Establishment.objects.filter(code=HOTEL).exists():
            services.register_establishment(actor=actor, code=HOTEL, name="Khách sạn Hồ Gươm (demo)",
                                            commune_code=FIXTURE_COMMUNE, address="1 Hàng Khay")
            services.register_establishment(actor=actor, code=GUEST_HOUSE, name="Nhà nghỉ Hàng Bạc (demo)",
                                            commune_code=FIXTURE_COMMUNE, address="20 Hàng Bạc", kind="guest_house")
            remote = next(iter(admin_units.communes_by_province().get("08", [])), None)  # Tuyên Quang
            services.register_establishment(actor=actor, code=HOMESTAY, name="Homestay vùng cao (demo)",
                                            commune_code=remote.code if remote else FIXTURE_COMMUNE,
                                            address="Bản Phiêng", kind="homestay", remote_area=True)
        an = (CitizenAccount.objects.filter(person__full_name=FIXTURE_NAME, person__birth_date=FIXTURE_BIRTH_DATE,
                                            person__commune_code=FIXTURE_COMMUNE)
              .select_related("user", "person").first())
        for code in (HOTEL, GUEST_HOUSE):
            if an is not None:
                services.add_staff(actor=actor, establishment=Establishment.objects.get(code=code),
                                   id_number=an.user.username)
        if not WatchListEntry.objects.exists():
            services.add_watch_entry(actor=actor, nationality="KOR", document_number="PA1234567", surname="Kim",
                                     given_names="Ji Woo", reason="Thông báo truy tìm (dữ liệu demo)")
            # Olivia Smith, 2 April 1991, as another source wrote her: order and day/month swapped
            services.add_watch_entry(actor=actor, nationality="GBR", surname="Olivia", given_names="Smith",
                                     birth_date=date(1991, 2, 4), reason="Cảnh báo của Interpol (dữ liệu demo)")
        now = timezone.now()
        if an is not None and not Stay.objects.filter(establishment__code__in=[HOTEL, GUEST_HOUSE]).exists():
            declarant = services.Declarant.staff(an)
            for number, nat, surname, given, birth, sex, place, hours, visa_days in GUESTS:
                arrival = now - timedelta(hours=hours)
                visa_until = timezone.localdate() + timedelta(days=visa_days)
                visa = services.VisaIn(number=f"EV{number[-6:]}", valid_from=visa_until - timedelta(days=60),
                                       valid_until=visa_until)
                if visa_days < 0:  # the overstayer arrived before the visa ended
                    arrival = now - timedelta(days=10)
                services.declare_arrival(
                    declarant=declarant, establishment_code=place, arrival_at=arrival, room=str(100 + hours),
                    guest=services.guest_from_mrz(_mrz(number, nat, surname, given, birth, sex)), visa=visa, now=now)
        if not TemporaryResidenceCard.objects.exists() and Stay.objects.filter(document__number="533380006").exists():
            today = timezone.localdate()
            services.issue_residence_card(
                actor=actor, nationality="USA", document_number="533380006", number="TT2026000123", purpose="LĐ1",
                valid_from=today, valid_until=today + timedelta(days=700), issuing_unit="Cục Quản lý xuất nhập cảnh",
                commune_code=FIXTURE_COMMUNE, address="1 Hàng Khay")
        if an is not None and not an.person.passports.exists():
            services.issue_passport(actor=actor, id_number=an.user.username, reason="Dữ liệu demo")
    screening.screen_new_stays(actor=actor)  # what the scheduler runs every minute
    result = services.compute_overstays()
    lines = [
        f"  {Establishment.objects.count()} cơ sở lưu trú, {Stay.objects.filter(departure_at__isnull=True).count()} "
        f"khách nước ngoài đang lưu trú; {result.open_total} cảnh báo quá hạn tạm trú.",
        "  Cơ sở lưu trú khai báo khách: /luu-tru/ (đăng nhập tài khoản công dân mẫu Nguyễn Văn An).",
        "  Công an xem: /xuat-nhap-canh/ ; kiểm tra MRZ: popid mrz parse DÒNG1 DÒNG2",
        *[f"  Hộ chiếu demo {p.number}: popid mrz parse " + " ".join(f"'{line}'" for line in p.mrz.split())
          for p in
          Passport.objects.filter(reason="Dữ liệu demo")[:1]],
    ]
    return lines
