"""Demo data for ``popid seed`` (``make run``): a few scanned pages generated from known
Vietnamese text (an old household-register page naming registry persons of Phường Hoàn Kiếm, a
decision as a PDF, a case-file page), uploaded by the demo commune officer. Their OCR runs in the
background (``popid worker``, started by ``make run``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from popid.core.access import Actor
from popid.records import pagegen, services
from popid.records.models import RecordKind, ScannedRecord
from popid.registry.models import Person

DEMO_COMMUNE = "00070"  # Phường Hoàn Kiếm
DEMO_MARK = "[demo]"


def _birth(person: Person) -> str:
    return person.birth_date.strftime("%d/%m/%Y") if person.birth_date else str(person.birth_year)


def ensure_demo_records() -> list[str]:
    if ScannedRecord.objects.filter(title__startswith=DEMO_MARK).exists():
        return ["  Hồ sơ số hoá: /cong-an/so-hoa/ · tìm kiếm: /cong-an/tim-kiem/ (dữ liệu mẫu đã có)"]
    officer = (get_user_model().objects.filter(staff_role__level="commune", staff_role__unit_code=DEMO_COMMUNE,
                                               staff_role__role="officer").order_by("pk").first())
    if officer is None:
        return []
    actor = Actor.for_user(officer)
    people = list(Person.objects.filter(commune_code=DEMO_COMMUNE, birth_date__isnull=False).order_by("pk")[:3])
    register = list(pagegen.HOUSEHOLD_PAGE)
    if len(people) >= 2:
        first, second = people[0], people[1]
        register[4] = f"Họ và tên chủ hộ: {first.full_name}"
        register[5] = f"Sinh ngày: {_birth(first)}, số định danh: {first.id_number}"
        register[7] = f"Quan hệ với chủ hộ: người thân, họ và tên: {second.full_name}"
        register[8] = f"Sinh ngày: {_birth(second)}"
    decision = [
        "CÔNG AN PHƯỜNG HOÀN KIẾM",
        "QUYẾT ĐỊNH số 27/QĐ-CAP ngày 15/03/2019",
        "Về việc xử phạt vi phạm hành chính",
        "Hành vi: gây mất trật tự công cộng tại phố Hàng Gai",
        "Hình thức xử phạt: phạt tiền 500.000 đồng",
    ]
    case_page = [
        "HỒ SƠ VỤ VIỆC số 14/2016",
        "Trộm cắp tài sản tại chợ Đồng Xuân",
        "Ngày xảy ra: 02/11/2016",
        "Tang vật: một xe đạp điện màu đỏ",
        "Kết quả: đã trả lại tài sản cho người bị hại",
    ]
    scans = [
        (RecordKind.HOUSEHOLD_REGISTER, "Sổ đăng ký hộ khẩu số 0125/HK", "HK-1998-0125",
         pagegen.to_bytes(pagegen.render(register)), "so-ho-khau-0125.png"),
        (RecordKind.DECISION, "Quyết định xử phạt 27/QĐ-CAP", "QD-27-2019",
         pagegen.to_bytes(pagegen.render(decision), "PDF"), "qd-27-2019.pdf"),
        (RecordKind.CASE_FILE, "Hồ sơ vụ việc 14/2016 (bản giấy)", "VV-14-2016",
         pagegen.to_bytes(pagegen.render(case_page)), "vv-14-2016.png"),
    ]
    for kind, title, ref, content, name in scans:
        services.upload_record(actor=actor, kind=kind, title=f"{DEMO_MARK} {title}", original_ref=ref,
                               content=content, file_name=name)
    return [f"  Hồ sơ số hoá: {len(scans)} bản quét mẫu (nhận dạng trong nền: popid worker) · /cong-an/so-hoa/ · "
            "tiến độ: /cong-an/so-hoa/tien-do/ · tìm kiếm: /cong-an/tim-kiem/?text=ho+khau"]
