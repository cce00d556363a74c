"""Demo data for ``popid seed`` (``make run``): reports filed in Phường Hoàn Kiếm, one of them
classified, assigned and turned into a case file with a linked person and an evidence item."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from popid.core.access import Actor
from popid.core.text import normalize_text
from popid.police import services
from popid.police.models import Case, Report
from popid.registry.models import Person

DEMO_COMMUNE = "00070"  # Phường Hoàn Kiếm
DEMO_MARK = "[demo]"


# a one-page PDF (the smallest valid one) as the demo case document
DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
            b"3 0 obj<</Type/Page/MediaBox[0 0 595 842]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _matched_case(actor: Actor, username: str, report_code: str) -> str:
    """A second case: the deadline extended, a suspect known by name and birth year linked through
    the matcher (the best candidate, as an officer would confirm it), a note and a document."""
    person = Person.objects.filter(commune_code=DEMO_COMMUNE).order_by("-pk").first()
    if person is None:
        return ""
    services.assign(actor=actor, code=report_code, username=username)
    services.extend_deadline(actor=actor, code=report_code, reason="Chờ ngân hàng cung cấp sao kê")
    case = services.open_case(actor=actor, report_code=report_code, title="Lừa đảo qua điện thoại",
                              confidentiality="secret")
    plain = normalize_text(person.full_name).title()  # as a victim wrote the name: without diacritics
    found = services.find_candidates(actor=actor, number=case.number, full_name=plain, birth_year=person.birth_year,
                                     commune_code=DEMO_COMMUNE)
    if found:
        services.confirm_candidate(actor=actor, number=case.number, full_name=plain, birth_year=person.birth_year,
                                   commune_code=DEMO_COMMUNE, id_number=found[0].person.id_number, role="suspect")
    services.add_note(actor=actor, number=case.number, text="Bị hại cung cấp số điện thoại đã gọi đến.")
    services.add_document(actor=actor, number=case.number, kind="statement", title="Đơn trình báo của bị hại",
                          attachment=services.Attachment(name="don-trinh-bao.pdf", content=DEMO_PDF,
                                                         content_type="application/pdf"))
    return (f"  Hồ sơ vụ việc mật {case.number}: nghi phạm \"{plain}\" ({person.birth_year}) liên kết qua đối sánh"
            f"{'' if found else ' (không có ứng viên)'}")


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
    services.add_note(actor=actor, number=case.number, text="Đã trích xuất camera nhà số 7 Hàng Gai, chờ giám định.")
    second = _matched_case(actor, officer.get_username(), codes[1])
    if second:
        lines.append(second)
    lines.append(f"  Hồ sơ vụ việc {case.number} (cán bộ {officer.get_username()}); "
                 f"có {Case.objects.count()} hồ sơ · /cong-an/vu-viec/")
    lines.append("  Tố giác trực tuyến: /to-giac/ · theo dõi: /to-giac/tra-cuu/")
    return lines
