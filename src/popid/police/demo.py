"""Demo data for ``popid seed`` (``make run``): reports filed in Phường Hoàn Kiếm, one of them
classified, assigned and turned into a case file with a linked person and an evidence item."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from popid.core.access import Actor
from popid.police import services
from popid.police.models import Case, Report
from popid.registry.models import Person

DEMO_COMMUNE = "00070"  # Phường Hoàn Kiếm
DEMO_MARK = "[demo]"


def ensure_demo_police() -> list[str]:
    if Report.objects.filter(description__startswith=DEMO_MARK).exists():
        return ["  Tố giác, tin báo: /to-giac/ · cán bộ: /cong-an/tin-bao/ (dữ liệu mẫu đã có)"]
    officer = (get_user_model().objects.filter(staff_role__level="commune", staff_role__unit_code=DEMO_COMMUNE,
                                               staff_role__role="officer").order_by("pk").first())
    if officer is None:
        return []
    actor = Actor.for_user(officer)
    now = timezone.now()
    samples = [
        ("trom-cap", "Xe máy Honda Vision biển 29X1-123.45 bị lấy trộm trước cửa nhà số 5 Hàng Gai trong đêm."),
        ("lua-dao", "Tôi bị một người gọi điện tự xưng là cán bộ ngân hàng lừa chuyển 20 triệu đồng."),
        ("danh-bac", "Có nhóm người thường tụ tập đánh bạc ăn tiền tại quán nước đầu ngõ Hàng Bạc vào buổi tối."),
    ]
    lines, codes = [], []
    for index, (category, text) in enumerate(samples):
        report, tracking = services.submit_report(
            anonymous=True, category_code=category, commune_code=DEMO_COMMUNE,
            occurred_at=now - timedelta(days=index + 1), description=f"{DEMO_MARK} {text}")
        codes.append(report.code)
        lines.append(f"  Tin báo {report.code} ({category}), mã theo dõi: {tracking}")
    first = codes[0]
    services.classify(actor=actor, code=first, category_code="trom-cap", note="Có camera của nhà bên cạnh")
    services.assign(actor=actor, code=first, username=officer.get_username())
    case = services.open_case(actor=actor, report_code=first, title="Trộm cắp xe máy tại số 5 Hàng Gai")
    person = Person.objects.filter(commune_code=DEMO_COMMUNE).order_by("pk").first()
    if person is not None:
        services.link_person(actor=actor, number=case.number, id_number=person.id_number, role="victim")
    services.record_evidence(actor=actor, number=case.number, label="VC-01",
                             description="Đoạn ghi hình camera (USB 16 GB)", holder=officer.get_username())
    services.hand_over(actor=actor, number=case.number, label="VC-01", to_holder="Kho vật chứng Công an phường",
                       purpose="Lưu kho chờ giám định")
    lines.append(f"  Hồ sơ vụ việc {case.number} (cán bộ {officer.get_username()}); "
                 f"có {Case.objects.count()} hồ sơ · /cong-an/vu-viec/")
    lines.append("  Tố giác trực tuyến: /to-giac/ · theo dõi: /to-giac/tra-cuu/")
    return lines
