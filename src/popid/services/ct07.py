"""Residence confirmation (CT07, Thông tư 66/2023/TT-BCA): the PDF an approved
``residence_confirmation`` dossier produces, and its verification.

The document's content is the dossier's snapshot taken at submission (name, ID number, permanent
address read from the registry then) plus the decision (date, unit, officer), so the PDF does not
change when the registry changes later: every download of one approved dossier shows the same
confirmation. It carries a QR code pointing at the public verification page with a signed token:
a JWS (ES256, key from ``core.keys``) over a content summary. The verification page checks the
signature, the expiry (valid one year from the decision, DOMAIN.md §6) and that the dossier still
stands approved in the database; anything else is refused with the reason.

The font (DejaVu Sans, covers Vietnamese) ships in ``services/fonts`` with its licence, so PDFs
never depend on the fonts of the machine.
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import qrcode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from joserfc import jws, jwt
from joserfc.errors import JoseError

from popid.core import admin_units, keys
from popid.core.access import AccessContext, record_access
from popid.core.errors import Conflict
from popid.services.calendar import LOCAL_TZ
from popid.services.models import Dossier, DossierState

PROCEDURE_CODE = "residence_confirmation"
FONT_DIR = Path(__file__).parent / "fonts"
TOKEN_TYPE = "popid-ct07+jwt"
VALIDITY = timedelta(days=365)
SEX_LABELS = {"M": "Nam", "F": "Nữ"}
PDF_FIELDS = ["id_number", "full_name", "birth_date", "sex", "permanent_address"]
logging.getLogger("fontTools").setLevel(logging.WARNING)  # font subsetting logs every glyph at INFO


class NotIssued(Conflict):
    code = "ct07_not_issued"
    title = gettext_lazy("Chưa có giấy xác nhận cư trú")


@dataclass(frozen=True)
class Confirmation:
    """What the CT07 confirms, taken from the approved dossier."""

    code: str
    full_name: str
    id_number: str
    birth_date: str
    sex: str
    permanent_address: str
    purpose: str
    commune_code: str
    unit_name: str
    officer: str
    issued_at: datetime
    valid_until: date

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)


def mask_id(id_number: str) -> str:
    return f"{id_number[:3]}******{id_number[-3:]}" if len(id_number) == 12 else "***"


def _unit_name(commune_code: str) -> str:
    unit = admin_units.commune(commune_code)
    return f"Công an {unit.name}" if unit else f"Công an xã/phường {commune_code}"


def confirmation(dossier: Dossier) -> Confirmation:
    """The content of an approved CT07 dossier; NotIssued for any other dossier."""
    if dossier.procedure_code != PROCEDURE_CODE or dossier.state != DossierState.APPROVED or not dossier.decided_at:
        raise NotIssued(_("Giấy xác nhận chỉ được cấp khi hồ sơ xác nhận cư trú đã được phê duyệt"))
    approval = dossier.events.filter(to_state=DossierState.APPROVED).order_by("-at", "-pk").first()
    subject = dossier.subject
    issued = dossier.decided_at.astimezone(LOCAL_TZ)
    data = dossier.data
    return Confirmation(
        code=dossier.code, full_name=data.get("full_name") or subject.full_name,
        id_number=data.get("id_number") or subject.id_number,
        birth_date=subject.birth_date.strftime("%d/%m/%Y") if subject.birth_date else str(subject.birth_year or ""),
        sex=SEX_LABELS.get(subject.sex, subject.sex), permanent_address=data.get("permanent_address") or "",
        purpose=data.get("purpose") or "", commune_code=dossier.commune_code,
        unit_name=(approval.actor_unit if approval and approval.actor_unit else _unit_name(dossier.commune_code)),
        officer=approval.actor if approval else "", issued_at=issued, valid_until=(issued + VALIDITY).date())


# --- the signed verification token -----------------------------------------------------------------
KEYSET = "ct07"

def token_for(c: Confirmation) -> str:
    """A compact JWS over the content summary, signed with the current ES256 key of the ``ct07``
    keyset: a confirmation stays valid for a year, far longer than the OIDC keys' publication
    window, so its keys are rotated and pruned on their own schedule (docs/services.md)."""
    stored = keys.current_signing_key("ES256", keyset=KEYSET)
    claims = {"typ": "ct07", "jti": c.code, "name": c.full_name, "idm": c.masked_id,
              "addr": c.permanent_address, "unit": c.commune_code, "iat": int(c.issued_at.timestamp()),
              "exp": int(datetime.combine(c.valid_until, datetime.max.time(), tzinfo=LOCAL_TZ).timestamp())}
    return jwt.encode({"alg": "ES256", "kid": stored.kid, "typ": TOKEN_TYPE}, claims, stored.key)


@dataclass(frozen=True)
class Verification:
    status: str  # genuine | expired | revoked | invalid
    message: str
    claims: dict[str, Any]

    @property
    def genuine(self) -> bool:
        return self.status == "genuine"

    @property
    def issued_on(self) -> date | None:
        return _claim_date(self.claims.get("iat"))

    @property
    def valid_until(self) -> date | None:
        return _claim_date(self.claims.get("exp"))

    @property
    def unit_label(self) -> str:
        return admin_units.commune_label(self.claims.get("unit") or "")


def _claim_date(value: Any) -> date | None:
    return datetime.fromtimestamp(value, LOCAL_TZ).date() if isinstance(value, int) else None


def _invalid(message: str) -> Verification:
    return Verification("invalid", message, {})


def verify(token: str, *, now: float | None = None) -> Verification:
    """Check a token from a CT07 QR code: signature by a PopID key, type, expiry, and that the
    dossier it names is still approved with the same subject."""
    token = (token or "").strip()
    if not token or len(token) > 4000:
        return _invalid(_("Mã xác minh trống hoặc quá dài"))
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, UnicodeError):
        return _invalid(_("Mã xác minh không đúng định dạng"))
    stored = keys.verification_key(str(header.get("kid", "")), KEYSET)
    if stored is None or header.get("alg") != "ES256" or header.get("typ") != TOKEN_TYPE:
        return _invalid(_("Mã xác minh không do PopID ký: không xác định được khóa ký"))
    try:
        claims = dict(jwt.decode(token, stored.key, algorithms=["ES256"]).claims)
    except (JoseError, ValueError, json.JSONDecodeError):
        return _invalid(_("Chữ ký không hợp lệ: giấy tờ đã bị sửa đổi hoặc giả mạo"))
    if claims.get("typ") != "ct07" or not isinstance(claims.get("exp"), int) or not claims.get("jti"):
        return _invalid(_("Mã xác minh không phải của giấy xác nhận cư trú"))
    dossier = Dossier.objects.select_related("subject").filter(code=str(claims["jti"])).first()
    if (dossier is None or dossier.procedure_code != PROCEDURE_CODE or dossier.state != DossierState.APPROVED
            or mask_id(dossier.data.get("id_number") or dossier.subject.id_number) != claims.get("idm")):
        return Verification("revoked", _("Giấy xác nhận không còn được ghi nhận trong hệ thống"), claims)
    if (now or time.time()) > claims["exp"]:
        return Verification("expired", _("Giấy xác nhận là thật nhưng đã hết thời hạn sử dụng"), claims)
    return Verification("genuine", _("Giấy xác nhận do Công an cấp qua PopID, nội dung còn nguyên vẹn"), claims)


# --- the PDF ---------------------------------------------------------------------------------------
def qr_png(url: str) -> io.BytesIO:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=2)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    buffer.seek(0)
    return buffer


def render_pdf(c: Confirmation, *, verify_url: str) -> bytes:
    """The CT07 confirmation as an A4 PDF with the QR code of ``verify_url``. The document text is
    Vietnamese whatever the interface language: it is an official form."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(c.issued_at)
    pdf.set_title(f"Xác nhận thông tin về cư trú {c.code}")
    pdf.set_creator("PopID")
    pdf.set_author(c.unit_name)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    line: dict[str, Any] = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 5, "Mẫu CT07 ban hành kèm theo Thông tư số 66/2023/TT-BCA", align="R", **line)
    pdf.set_font("DejaVu", "B", 10)
    left, right = 68.0, pdf.w - 40 - 68.0
    y = pdf.get_y() + 2
    pdf.set_xy(20, y)
    pdf.multi_cell(left, 5.5, c.unit_name.upper(), align="C")
    pdf.set_xy(20 + left, y)
    pdf.multi_cell(right, 5.5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc", align="C")
    pdf.set_font("DejaVu", "", 10)
    pdf.set_x(20)
    pdf.cell(left, 6, f"Số: {c.code}", align="C", **line)
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(0, 8, "XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ", align="C", **line)
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6.5, f"{c.unit_name} xác nhận thông tin về cư trú của công dân như sau:", **line)
    pdf.ln(2)
    rows = [("Họ, chữ đệm và tên", c.full_name), ("Ngày, tháng, năm sinh", c.birth_date), ("Giới tính", c.sex),
            ("Số định danh cá nhân", c.id_number), ("Nơi thường trú", c.permanent_address or "Chưa có thông tin"),
            ("Mục đích sử dụng", c.purpose or "—")]
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(55, 7, f"{label}:")
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(0, 7, value, **line)
    pdf.ln(3)
    pdf.multi_cell(0, 6.5, f"Giấy xác nhận có giá trị đến hết ngày {c.valid_until:%d/%m/%Y}.", **line)
    pdf.ln(4)
    top = pdf.get_y()
    pdf.image(qr_png(verify_url), x=20, y=top, w=42, h=42, link=verify_url)  # clickable on screen
    pdf.set_xy(70, top)
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, f"Ngày {c.issued_at:%d} tháng {c.issued_at:%m} năm {c.issued_at:%Y}", align="R", **line)
    pdf.set_x(70)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 6, "CÁN BỘ XÁC NHẬN", align="R", **line)
    pdf.set_x(70)
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, c.officer, align="R", **line)
    pdf.set_y(top + 46)
    pdf.set_font("DejaVu", "", 8.5)
    pdf.multi_cell(0, 4.5, "Quét mã QR để kiểm tra giấy xác nhận trên PopID (chữ ký số của cơ quan cấp, thời hạn và "
                           "tình trạng hồ sơ). Giấy tờ bị sửa đổi sẽ không xác minh được.", **line)
    return bytes(pdf.output())


def pdf_for(dossier: Dossier, *, ctx: AccessContext, verify_url_for: Any) -> bytes:
    """The signed PDF (PAdES, ct07_signing) of an approved CT07 dossier for someone already allowed
    to see the dossier; the read of the subject's data for the document is recorded with ``ctx``."""
    from popid.services.ct07_signing import sign_pdf

    c = confirmation(dossier)
    record_access(ctx=ctx, person_id_numbers=[dossier.subject.id_number], fields=PDF_FIELDS)
    return sign_pdf(render_pdf(c, verify_url=verify_url_for(token_for(c))),
                    reason="Xác nhận thông tin về cư trú (CT07)", location=c.unit_name)
