"""The penalty decision as a PDF with a signed QR code, made with the CT07 machinery of
``popid.services`` (its QR renderer, bundled DejaVu fonts and PAdES signer) and a JWS token from
``core.keys`` (keyset ``traffic``). The QR points at the public verification page, which checks
the signature and that the decision still exists with the same number, plate and amount."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypedDict

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from joserfc import jws, jwt
from joserfc.errors import JoseError

from popid.core import admin_units, keys
from popid.core.access import AccessContext, record_access
from popid.services.ct07 import FONT_DIR, qr_png
from popid.services.ct07_signing import sign_pdf
from popid.traffic.catalogue import get_violation
from popid.traffic.models import Decision


class _LineBreak(TypedDict):
    """``multi_cell`` keyword arguments that move to the start of the next line."""

    new_x: XPos
    new_y: YPos


KEYSET = "traffic"
TOKEN_TYPE = "popid-traffic-decision+jwt"
PDF_FIELDS = ["full_name", "id_number", "vehicle_registration"]


def token_for(decision: Decision) -> str:
    stored = keys.current_signing_key("ES256", keyset=KEYSET)
    claims = {"typ": "traffic_decision", "jti": decision.number, "plate": decision.plate_key,
              "amt": decision.amount, "vio": decision.violation_code, "iat": int(decision.decided_at.timestamp())}
    return jwt.encode({"alg": "ES256", "kid": stored.kid, "typ": TOKEN_TYPE}, claims, stored.key)


@dataclass(frozen=True)
class Verification:
    status: str  # genuine | revoked | invalid
    message: str
    claims: dict[str, Any]

    @property
    def genuine(self) -> bool:
        return self.status == "genuine"


def verify(token: str) -> Verification:
    token = (token or "").strip()
    if not token or len(token) > 4000:
        return Verification("invalid", _("Mã xác minh trống hoặc quá dài"), {})
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, UnicodeError):
        return Verification("invalid", _("Mã xác minh không đúng định dạng"), {})
    stored = keys.verification_key(str(header.get("kid", "")), KEYSET)
    if stored is None or header.get("alg") != "ES256" or header.get("typ") != TOKEN_TYPE:
        return Verification("invalid", _("Mã xác minh không do PopID ký"), {})
    try:
        claims = dict(jwt.decode(token, stored.key, algorithms=["ES256"]).claims)
    except (JoseError, ValueError, json.JSONDecodeError):
        return Verification("invalid", _("Chữ ký không hợp lệ: quyết định đã bị sửa đổi hoặc giả mạo"), {})
    decision = Decision.objects.filter(number=str(claims.get("jti", ""))).first()
    if (decision is None or decision.plate_key != claims.get("plate") or decision.amount != claims.get("amt")
            or claims.get("typ") != "traffic_decision"):
        return Verification("revoked", _("Quyết định không còn được ghi nhận trong hệ thống"), claims)
    return Verification("genuine", _("Quyết định xử phạt do PopID phát hành, nội dung còn nguyên vẹn"), claims)


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def render_pdf(decision: Decision, *, verify_url: str) -> bytes:
    violation = get_violation(decision.violation_code)
    detection = decision.detection
    owner = decision.owner
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(decision.decided_at)
    pdf.set_title(f"Quyết định xử phạt {decision.number}")
    pdf.set_creator("PopID")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    line: _LineBreak = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(0, 5.5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc", align="C", **line)
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(0, 6, f"{decision.decided_unit} · Số: {decision.number}", align="C", **line)
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, "QUYẾT ĐỊNH XỬ PHẠT VI PHẠM HÀNH CHÍNH\n(vi phạm được phát hiện qua phương tiện kỹ thuật)",
                   align="C", **line)
    pdf.ln(3)
    local_time = timezone.localtime(detection.detected_at)
    rows = [
        ("Người vi phạm (chủ phương tiện)", f"{owner.full_name}, số định danh {owner.id_number}"),
        ("Phương tiện", f"{decision.plate_display} ({decision.vehicle.vehicle_type} {decision.vehicle.brand})"),
        ("Thời gian, địa điểm", f"{local_time:%H:%M %d/%m/%Y}, {admin_units.commune_label(detection.commune_code)} "
                                f"({detection.latitude}, {detection.longitude}), thiết bị {detection.device_id}"),
        ("Hành vi vi phạm", violation.vi if violation else decision.violation_code),
        ("Căn cứ", decision.legal_ref),
        ("Mức phạt", _money(decision.amount)),
        ("Trừ điểm giấy phép lái xe", f"{decision.points} điểm" if decision.points else "Không"),
        ("Hạn nộp phạt", f"{decision.due_on:%d/%m/%Y} (10 ngày kể từ ngày nhận thông báo); quá hạn tính tiền chậm "
                         f"nộp 0,05% mỗi ngày"),
    ]
    if detection.measured_value is not None:
        rows.insert(4, ("Giá trị đo", str(detection.measured_value)))
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.cell(62, 6.5, f"{label}:")
        pdf.set_font("DejaVu", "", 10.5)
        pdf.multi_cell(0, 6.5, value, **line)
    pdf.ln(4)
    top = pdf.get_y()
    pdf.image(qr_png(verify_url), x=20, y=top, w=40, h=40, link=verify_url)
    pdf.set_xy(70, top)
    pdf.set_font("DejaVu", "", 10.5)
    pdf.multi_cell(0, 6, f"Ngày {decision.decided_at:%d/%m/%Y}\nNGƯỜI RA QUYẾT ĐỊNH\n{decision.decided_by}",
                   align="R", **line)
    pdf.set_y(top + 44)
    pdf.set_font("DejaVu", "", 8.5)
    pdf.multi_cell(0, 4.5, "Quét mã QR để kiểm tra quyết định trên PopID. Nộp phạt trực tuyến bằng số quyết định và "
                           "biển số tại mục Phạt nguội.", **line)
    return bytes(pdf.output())


def pdf_for(decision: Decision, *, ctx: AccessContext, verify_url_for: Any) -> bytes:
    record_access(ctx=ctx, person_id_numbers=[decision.owner.id_number], fields=PDF_FIELDS)
    return sign_pdf(render_pdf(decision, verify_url=verify_url_for(token_for(decision))),
                    reason="Quyết định xử phạt vi phạm hành chính", location=decision.decided_unit or "PopID")
