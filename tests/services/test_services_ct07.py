"""CT07 residence confirmation: approval makes a Vietnamese PDF (shipped font) with a QR code whose
link carries a signed token; the public page verifies it; tampered, forged, expired and revoked
tokens are refused with their reason; downloads are checked for ownership and jurisdiction."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from popid.core import keys
from popid.core.models import AccessRecord
from popid.services import ct07, dossiers
from popid.services.ct07_signing import signing_dir
from popid.services.models import Dossier, DossierState
from tests.conftest import bearer
from tests.services.test_services_workflow import citizen_login, make_account

API = "/api/v1/services"


@pytest.fixture
def approved(family, actor_hoan_kiem):
    account = make_account(family["an"])
    dossier, _created = dossiers.submit_dossier(account=account, procedure_code="residence_confirmation",
                                                data={"purpose": "Bổ sung hồ sơ nhập học cho con"})
    dossier = dossiers.claim(actor=actor_hoan_kiem, code=dossier.code, expected_version=dossier.version)
    dossier = dossiers.approve(actor=actor_hoan_kiem, code=dossier.code, expected_version=dossier.version)
    return account, dossier


def _pdf(content: bytes) -> tuple[str, list[str]]:
    reader = PdfReader(io.BytesIO(content))
    page = reader.pages[0]
    links = [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", []) if "/A" in a.get_object()]
    return page.extract_text(), links


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def test_citizen_downloads_a_vietnamese_pdf_with_a_verifiable_qr_link(client, approved, family):
    account, dossier = approved
    citizen_login(client, account)
    response = client.get(f"{API}/dossiers/{dossier.code}/ct07.pdf")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    assert f"CT07-{dossier.code}.pdf" in response["Content-Disposition"]
    text, links = _pdf(response.content)
    for expected in ("XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ", "Nguyễn Văn An", family["an"].id_number, "12 Hàng Bạc",
                     "Bổ sung hồ sơ nhập học cho con", "Công an phường Hoàn Kiếm", "Độc lập - Tự do - Hạnh phúc"):
        assert expected in text, expected
    assert len(links) == 1 and links[0].startswith("http://testserver/services/xac-minh-cu-tru/")
    result = ct07.verify(_token(links[0]))
    assert result.status == "genuine" and result.claims["jti"] == dossier.code
    assert result.claims["idm"] == family["an"].id_number[:3] + "******" + family["an"].id_number[-3:]
    assert AccessRecord.objects.filter(person_id_number=family["an"].id_number, channel="portal",
                                       purpose__contains="CT07").exists()
    page = client.get(links[0].removeprefix("http://testserver"))
    html = page.content.decode()
    assert page.status_code == 200 and "Giấy tờ hợp lệ" in html and "Nguyễn Văn An" in html
    assert family["an"].id_number not in html  # masked on the public page


def test_pdf_embeds_the_shipped_font():
    assert (ct07.FONT_DIR / "DejaVuSans.ttf").stat().st_size > 100_000
    assert "Bitstream" in (ct07.FONT_DIR / "LICENSE-DejaVu.txt").read_text()


def test_officer_downloads_in_console_and_api_other_unit_gets_404(client, approved, officer_hoan_kiem, officer_hcm):
    _account, dossier = approved
    client.force_login(officer_hoan_kiem)
    response = client.get(f"/services/dossiers/{dossier.code}/ct07.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert client.get(f"{API}/officer/dossiers/{dossier.code}/ct07.pdf",
                      headers=bearer(officer_hoan_kiem)).status_code == 200
    assert client.get(f"{API}/officer/dossiers/{dossier.code}/ct07.pdf",
                      headers=bearer(officer_hcm)).status_code == 404
    client.force_login(officer_hcm)
    assert client.get(f"/services/dossiers/{dossier.code}/ct07.pdf").status_code == 404


def test_other_citizen_and_unapproved_dossier_get_no_pdf(client, approved, family):
    _account, dossier = approved
    citizen_login(client, make_account(family["binh"]))
    assert client.get(f"{API}/dossiers/{dossier.code}/ct07.pdf").status_code == 404
    pending, _created = dossiers.submit_dossier(account=Dossier.objects.get(pk=dossier.pk).applicant,
                                                procedure_code="residence_confirmation", data={})
    citizen_login(client, pending.applicant)
    response = client.get(f"{API}/dossiers/{pending.code}/ct07.pdf")
    assert response.status_code == 409 and response.json()["code"] == "ct07_not_issued"


def _genuine_token(dossier: Dossier) -> str:
    return ct07.token_for(ct07.confirmation(dossier))


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_token_is_refused(client, approved):
    _account, dossier = approved
    header, payload, signature = _genuine_token(dossier).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["name"] = "Trần Văn Giả"
    tampered = f"{header}.{_b64(claims)}.{signature}"
    result = ct07.verify(tampered)
    assert result.status == "invalid" and "Chữ ký không hợp lệ" in result.message and not result.claims
    page = client.get(f"/services/xac-minh-cu-tru/{tampered}/")
    html = page.content.decode()
    assert page.status_code == 422 and "Không xác minh được" in html and "Trần Văn Giả" not in html


def test_forged_tokens_are_refused(approved):
    _account, dossier = approved
    c = ct07.confirmation(dossier)
    forger = ECKey.generate_key("P-256", private=True)
    claims = {"typ": "ct07", "jti": c.code, "name": c.full_name, "idm": c.masked_id, "addr": "x",
              "unit": c.commune_code, "iat": int(time.time()), "exp": int(time.time()) + 3600}
    own_kid = keys.current_signing_key("ES256", keyset=ct07.KEYSET).kid
    with_our_kid = jwt.encode({"alg": "ES256", "kid": own_kid, "typ": ct07.TOKEN_TYPE}, claims, forger)
    assert ct07.verify(with_our_kid).status == "invalid"
    unknown_kid = jwt.encode({"alg": "ES256", "kid": "forged-1", "typ": ct07.TOKEN_TYPE}, claims, forger)
    assert "không do PopID ký" in ct07.verify(unknown_kid).message
    assert ct07.verify("not.a.token").status == "invalid"
    assert ct07.verify("").status == "invalid"


def test_expired_and_revoked(approved, client):
    _account, dossier = approved
    token = _genuine_token(dossier)
    assert ct07.verify(token, now=time.time() + 400 * 86400).status == "expired"
    Dossier.objects.filter(pk=dossier.pk).update(state=DossierState.CANCELLED)
    result = ct07.verify(token)
    assert result.status == "revoked" and result.claims["jti"] == dossier.code
    api = client.get(f"{API}/ct07/verify", {"token": token}).json()
    assert api["status"] == "revoked" and api["genuine"] is False and api["code"] == dossier.code


def test_public_api_verifies_a_genuine_token(client, approved):
    _account, dossier = approved
    body = client.get(f"{API}/ct07/verify", {"token": _genuine_token(dossier)}).json()
    assert body["genuine"] is True and body["full_name"] == "Nguyễn Văn An" and body["commune_code"] == "00070"


def test_verification_form_page(client, approved):
    _account, dossier = approved
    page = client.get("/services/xac-minh-cu-tru/", {"token": _genuine_token(dossier)})
    assert page.status_code == 200 and "Giấy tờ hợp lệ" in page.content.decode()
    empty = client.get("/services/xac-minh-cu-tru/")
    assert empty.status_code == 200 and "Nhập mã xác minh" in empty.content.decode()


def test_pdf_carries_a_pades_signature_that_detects_tampering(client, approved):
    account, dossier = approved
    citizen_login(client, account)
    pdf = client.get(f"{API}/dossiers/{dossier.code}/ct07.pdf").content
    pem = client.get("/services/xac-minh-cu-tru/chung-thu.pem")
    assert pem.status_code == 200 and pem.content.startswith(b"-----BEGIN CERTIFICATE-----")
    trusted = ValidationContext(trust_roots=[load_cert_from_pemder(str(signing_dir() / "signing-cert.pem"))])
    assert load_cert_from_pemder(str(signing_dir() / "signing-cert.pem")).dump() in base64.b64decode(
        b"".join(pem.content.splitlines()[1:-1]))
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    status = validate_pdf_signature(signature, trusted)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert signature.sig_object["/Reason"] == "Xác nhận thông tin về cư trú (CT07)"
    untrusted = validate_pdf_signature(signature, ValidationContext(trust_roots=[]))
    assert untrusted.intact and not untrusted.trusted  # intact, but only a trusted certificate makes it valid
    tampered = pdf.replace(b"/Creator (PopID)", b"/Creator (P0pID)", 1)  # same length, inside the signed range
    assert tampered != pdf
    broken = validate_pdf_signature(PdfFileReader(io.BytesIO(tampered)).embedded_signatures[0], trusted)
    assert not broken.intact and not broken.bottom_line


def test_dossier_pages_link_the_pdf_only_once_approved(client, approved, officer_hoan_kiem, family):
    account, dossier = approved
    citizen_login(client, account)
    page = client.get(f"/dich-vu-cong/ho-so/{dossier.code}/").content.decode()
    assert f'href="{API}/dossiers/{dossier.code}/ct07.pdf"' in page
    client.force_login(officer_hoan_kiem)
    page = client.get(f"/services/dossiers/{dossier.code}/").content.decode()
    assert f'href="/services/dossiers/{dossier.code}/ct07.pdf"' in page
    pending, _ = dossiers.submit_dossier(account=account, procedure_code="residence_confirmation",
                                         data={"purpose": "Hồ sơ khác"})
    assert 'id="ct07-pdf"' not in client.get(f"/services/dossiers/{pending.code}/").content.decode()


def test_tokens_are_signed_with_their_own_keyset_not_the_oidc_keys(approved):
    _account, dossier = approved
    token = ct07.token_for(ct07.confirmation(dossier))
    kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")).get("kid")
    assert keys.verification_key(kid, ct07.KEYSET) is not None and keys.verification_key(kid) is None
