"""Issue #19 items 3–4, kept true: the main citizen and officer pages, rendered with a small
demo (a citizen with a paid dossier, a driving licence in the wallet, reads in the access
history, login events), show people values, not codes — no session level ``level-1``, no field
or enum names, no ISO dates or UTC times, no Python values (``True``, ``{'…``), no MIME types, no
``VND``/``100.0`` formats, no bare commune or country codes. Text inside ``class="mono"`` (ID
numbers, dossier codes, hashes: codes people copy) and form controls is not checked."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.services.test_services_citizen import BASE, form_data, login, make_account, pay_through_the_sandbox

pytestmark = pytest.mark.django_db

RAW = {
    "session level code": re.compile(r"\blevel-[12]\b"),
    "field or enum name": re.compile(r"\b(full_name|birth_date|permanent_address|proof_of_residence|id_number|"
                                     r"commune_code|awaiting_payment|in_progress|web_wallet|age_over_18)\b"),
    "ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "UTC time": re.compile(r"\bUTC\b|\+00:00"),
    "Python value": re.compile(r"\b(True|False|None)\b|\{'|'\}"),
    "MIME type": re.compile(r"\b(application/(pdf|json)|image/(png|jpeg))\b"),
    "money format": re.compile(r"\d\s?VND\b|\b\d+\.0\b"),
    # a code in brackets after its name ("Phường Hoàn Kiếm (00070)") is how officers see both
    "bare commune code": re.compile(r"(?<![\w./(-])\d{5}(?![\w/)-])"),
    "bare country code": re.compile(r"(?<![\w(-])(VN|VNM)(?![\w)-])"),
}
SKIPPED = {"script", "style", "textarea", "pre", "code", "select", "option", "title"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class VisibleText(HTMLParser):
    """The text a person reads, without what is a code on purpose."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        self.stack.append(tag in SKIPPED or "mono" in classes or "visually-hidden" in classes)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.parts.append(data)


def raw_values(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    found = []
    for name, pattern in RAW.items():
        for match in pattern.finditer(text):
            found.append(f"{name}: …{text[max(0, match.start() - 40):match.end() + 40]}…")
    return found


def test_the_checker_finds_what_it_looks_for():
    html = ("<p>Phiên level-1, ngày 2026-12-06, 7000 VND, 100.0, True, {'a': 1}, application/pdf, 00070, VN</p>"
            "<p class='mono'>001090012345 261207-00070-ABC123</p><script>var x = '2026-12-06';</script>")
    kinds = {f.split(":")[0] for f in raw_values(html)}
    assert kinds == set(RAW) - {"UTC time", "field or enum name"}
    assert raw_values("<p>Ngày 06/12/2026, 7.000 ₫, Phường Hoàn Kiếm, Việt Nam</p>") == []


@pytest.fixture
def demo(client, family, officer_hoan_kiem, admin_actor, settings, tmp_path):
    """A level-2 citizen with a paid dossier, a licence in the wallet and officer reads."""
    from datetime import date

    from popid.core.access import AccessContext
    from popid.documents import services as documents
    from popid.registry import selectors
    from popid.services.models import Dossier
    from popid.wallet import services as wallet

    settings.DATA_DIR = tmp_path
    an = family["an"]
    account = make_account(an, level=2)
    web = login(client, account)
    response = web.post(f"{BASE}/thu-tuc/temporary_residence/", form_data(
        file_proof_of_residence=SimpleUploadedFile("hop-dong.pdf", b"%PDF-1.4\n", content_type="application/pdf")))
    pay_through_the_sandbox(web, response["Location"])
    licence = documents.issue_licence(
        actor=admin_actor, person=an, number="010123456789", classes=[{"class": "B", "issued_on": "2015-03-01"}],
        issued_on=date(2015, 3, 1), valid_until=date(2035, 3, 1), issued_by="Phòng CSGT Hà Nội")
    held = wallet.add_to_wallet(account=account, config_id="giay_phep_lai_xe", document_ref=licence.number,
                                base="http://testserver")
    from popid.core.access import Actor

    selectors.access_person(ctx=AccessContext(actor=Actor.for_user(officer_hoan_kiem), purpose="Tra cứu nghiệp vụ",
                                              channel="console"), id_number=an.id_number)
    return {"an": an, "account": account, "dossier": Dossier.objects.get(), "held": held, "licence": licence}


def test_citizen_pages_show_values_not_codes(client, demo):
    from django.utils import timezone

    from popid.identity.auth import SESSION_ACR, SESSION_AMR, SESSION_AUTH_TIME

    session = client.session
    session[SESSION_ACR], session[SESSION_AMR] = "level-2", ["pwd", "passcode"]
    session[SESSION_AUTH_TIME] = int(timezone.now().timestamp())
    session.save()
    code = demo["dossier"].code
    pages = ["/tai-khoan/", "/tai-khoan/thiet-bi/", "/tai-khoan/lich-su/", f"{BASE}/", f"{BASE}/ho-so/",
             f"{BASE}/ho-so/{code}/", f"{BASE}/ho-so/{code}/bien-nhan/", f"{BASE}/thu-tuc/temporary_residence/",
             f"{BASE}/thong-bao/", "/so-cai/lich-su-truy-cap/", "/vi-giay-to/",
             f"/vi-giay-to/giay-to/{demo['held'].pk}/", "/danh-muc/"]
    _assert_values_not_codes(client, pages)


def _assert_values_not_codes(client, pages: list[str]) -> None:
    failures = []
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        failures += [f"{path}: {f}" for f in raw_values(response.content.decode())]
    assert not failures, "\n".join(failures)


def test_officer_pages_show_values_not_codes(client, demo, officer_hoan_kiem):
    an, code = demo["an"], demo["dossier"].code
    client.force_login(officer_hoan_kiem)
    pages = ["/", "/search/?name=nguyen+van+an", f"/persons/{an.id_number}/", "/quality/", "/services/dossiers/",
             f"/services/dossiers/{code}/", "/giay-to/", f"/giay-to/cong-dan/{an.id_number}/",
             f"/giay-to/gplx/{demo['licence'].number}/"]
    _assert_values_not_codes(client, pages)
