"""The citizen's access-history page, proof bundles and `popid ledger verify-bundle`."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from popid.core.access import AccessContext, Actor, record_access
from popid.core.models import AccessRecord
from popid.identity.models import CitizenAccount, Guardianship
from popid.ledger import services
from popid.ledger.bundle import verify_bundle

OFFICER = Actor(label="cb.hoankiem", role="officer", level="commune", unit_code="00070",
                unit_name="Công an phường Hoàn Kiếm")


@contextlib.contextmanager
def insider():
    """An insider with the database superuser's rights, who bypasses the append-only triggers
    (``session_replication_role = replica``); nothing to bypass on SQLite."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


def make_account(person, *, level: int = 1) -> CitizenAccount:
    user = get_user_model().objects.create_user(username=person.id_number)
    return CitizenAccount.objects.create(user=user, person=person, level=level, phone="0912345678",
                                         phone_verified_at=timezone.now())


def session_for(account: CitizenAccount) -> str:
    """A logged-in citizen session as identity.auth.login_citizen leaves it."""
    store = SessionStore()
    store["_auth_user_id"] = str(account.user.pk)
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store["_auth_user_hash"] = account.user.get_session_auth_hash()
    store["popid_acr"] = "level-2" if account.level == 2 else "level-1"
    store["popid_amr"] = ["pwd"]
    store.create()
    return store.session_key


def client_for(account: CitizenAccount) -> Client:
    client = Client()
    client.cookies["sessionid"] = session_for(account)
    return client


def read(person, *, purpose: str, hidden_until=None, consent_ref: str = "", channel: str = "console") -> None:
    ctx = AccessContext(actor=OFFICER, purpose=purpose, channel=channel, hidden_until=hidden_until,
                        consent_ref=consent_ref, legal_basis="Luật Căn cước 2023, Điều 9")
    record_access(ctx=ctx, person_id_numbers=[person.id_number], fields=["full_name", "birth_date"])


@pytest.fixture
def an_with_history(family):
    an = family["an"]
    account = make_account(an)
    read(an, purpose="Giải quyết thủ tục đăng ký thường trú")
    read(family["binh"], purpose="Tra cứu người khác")
    read(an, purpose="Xác thực eKYC mở tài khoản", consent_ref="CONSENT-2026-0001", channel="ekyc")
    read(an, purpose="Điều tra vụ án", hidden_until=timezone.now() + timedelta(days=90))
    return an, account


def test_anonymous_visitors_are_sent_to_the_citizen_login(db):
    response = Client().get("/so-cai/lich-su-truy-cap/")
    assert response.status_code == 302 and "/tai-khoan/dang-nhap/" in response["Location"]


def test_citizen_sees_own_entries_with_proofs_and_nothing_hidden(an_with_history):
    _an, account = an_with_history
    response = client_for(account).get("/so-cai/lich-su-truy-cap/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Giải quyết thủ tục đăng ký thường trú" in html and "CONSENT-2026-0001" in html
    assert "Tra cứu người khác" not in html  # Bình's record
    assert "Điều tra vụ án" not in html  # hidden until its date: not shown and not counted
    assert 'src="/static/ledger/ledger-verify.js"' in html and "<script>" not in html
    bundle = response.context["bundle"]
    assert [e["content"]["purpose"] for e in bundle["entries"]] == [
        "Xác thực eKYC mở tài khoản", "Giải quyết thủ tục đăng ký thường trú"]
    report = verify_bundle(bundle, trusted_keys={k["kid"]: k for k in services.public_jwks()["keys"]})
    assert report.ok and report.checkpoint.size == 4
    assert not AccessRecord.objects.filter(committed_at__isnull=True).exists()  # integrated lazily


def test_moving_a_hidden_until_date_earlier_is_detected_as_tampering(an_with_history):
    _an, account = an_with_history
    client = client_for(account)
    client.get("/so-cai/lich-su-truy-cap/")
    hidden = AccessRecord.objects.get(purpose="Điều tra vụ án")
    with insider():
        AccessRecord.objects.filter(pk=hidden.pk).update(hidden_until=timezone.now() - timedelta(days=1))
    # moving the date is itself tampering (hidden_until is committed): the page must say so
    bundle = client.get("/so-cai/lich-su-truy-cap/").context["bundle"]
    revealed = [e for e in bundle["entries"] if e["content"]["purpose"] == "Điều tra vụ án"]
    assert len(revealed) == 1
    report = verify_bundle(bundle)
    assert [r.ok for r in report.entries if r.index == revealed[0]["index"]] == [False]


def test_hidden_entries_are_revealed_when_their_date_has_passed(family):
    an = family["an"]
    make_account(an)
    read(an, purpose="Truy vấn bảo mật đã hết hạn", hidden_until=timezone.now() + timedelta(seconds=1))
    read(an, purpose="Tra cứu thường")
    services.integrate()
    from popid.ledger import selectors

    before = selectors.access_history(person=an)
    later = selectors.access_history(person=an, now=timezone.now() + timedelta(minutes=1))
    assert [r.content["purpose"] for r in before.rows] == ["Tra cứu thường"]
    assert [r.content["purpose"] for r in later.rows] == ["Tra cứu thường", "Truy vấn bảo mật đã hết hạn"]
    assert later.rows[1].content["person_seq"] is None and later.rows[0].content["person_seq"] == 0
    assert verify_bundle(selectors.proof_bundle(later)).ok


def test_guardian_sees_a_wards_history_but_not_a_strangers(family):
    an, khoi, binh = family["an"], family["khoi"], family["binh"]
    guardian = make_account(an, level=2)
    ward = make_account(khoi)
    stranger = make_account(binh)
    Guardianship.objects.create(guardian=guardian, ward=ward, kind="parent", valid_from=date(2018, 9, 2))
    read(khoi, purpose="Nhập học lớp 1")
    client = client_for(guardian)
    page = client.get(f"/so-cai/lich-su-truy-cap/?ward={ward.pk}")
    assert page.status_code == 200 and "Nhập học lớp 1" in page.content.decode()
    assert client.get(f"/so-cai/lich-su-truy-cap/?ward={stranger.pk}").status_code == 404
    assert client.get("/so-cai/lich-su-truy-cap/?ward=abc").status_code == 404
    assert client.get(f"/so-cai/lich-su-truy-cap/bang-chung.json?ward={stranger.pk}").status_code == 404
    assert client_for(stranger).get(f"/so-cai/lich-su-truy-cap/?ward={ward.pk}").status_code == 404


def test_downloaded_bundle_verifies_offline_and_tampering_fails(an_with_history, tmp_path):
    _an, account = an_with_history
    response = client_for(account).get("/so-cai/lich-su-truy-cap/bang-chung.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    bundle = json.loads(response.content)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(Client().get("/api/v1/ledger/keys").json()))
    out = StringIO()
    call_command("ledger", "verify-bundle", str(path), "--jwks", str(jwks), stdout=out)
    assert "hợp lệ" in out.getvalue()

    edited = copy.deepcopy(bundle)
    edited["entries"][0]["content"]["purpose"] = "Mục đích đẹp hơn"
    report = verify_bundle(edited)
    assert not report.ok and not report.entries[0].ok and report.entries[1].ok
    path.write_text(json.dumps(edited))
    with pytest.raises(CommandError):
        call_command("ledger", "verify-bundle", str(path), stdout=StringIO(), stderr=StringIO())

    flipped = copy.deepcopy(bundle)
    proof = bytearray(base64.b64decode(flipped["entries"][1]["audit_path"][0]))
    proof[0] ^= 1
    flipped["entries"][1]["audit_path"][0] = base64.b64encode(bytes(proof)).decode()
    assert not verify_bundle(flipped).entries[1].ok

    withheld = copy.deepcopy(bundle)
    withheld["entries"] = [e for e in withheld["entries"] if e["content"]["person_seq"] != 0]
    assert any("withheld" in p for p in verify_bundle(withheld).problems)

    assert not verify_bundle(bundle, trusted_keys={}).ok  # unknown signer
    forged = copy.deepcopy(bundle)
    forged["checkpoint"]["note"] = forged["checkpoint"]["note"].replace(f"\n{bundle['checkpoint']['size']}\n", "\n99\n")
    assert not verify_bundle(forged).ok
    assert not verify_bundle({"format": "other"}).ok


def test_a_tampered_record_shows_as_not_verified_in_the_bundle(an_with_history):
    _an, account = an_with_history
    client = client_for(account)
    client.get("/so-cai/lich-su-truy-cap/")
    with insider():
        AccessRecord.objects.filter(purpose="Giải quyết thủ tục đăng ký thường trú").update(purpose="Đã sửa")
    bundle = client.get("/so-cai/lich-su-truy-cap/").context["bundle"]
    results = {r.index: r for r in verify_bundle(bundle).entries}
    tampered = next(e["index"] for e in bundle["entries"] if e["content"]["purpose"] == "Đã sửa")
    assert not results[tampered].ok and "committed leaf" in results[tampered].reason
    assert all(r.ok for i, r in results.items() if i != tampered)


def test_fields_read_are_shown_by_their_names_not_their_codes(family):
    """Issue #19 item 3: ``full_name`` and ``*`` become words; the script checks the words against
    the verified record through the same map (ledger-field-labels)."""
    an = family["an"]
    account = make_account(an)
    read(an, purpose="Tra cứu có trường")
    record_access(ctx=AccessContext(actor=OFFICER, purpose="Xem toàn bộ", channel="console"),
                  person_id_numbers=[an.id_number], fields=["*"])
    response = client_for(account).get("/so-cai/lich-su-truy-cap/")
    html = response.content.decode()
    assert "Ngày, tháng, năm sinh, Họ, chữ đệm và tên khai sinh" in html  # the record keeps its fields sorted
    assert "Toàn bộ hồ sơ" in html
    assert ">full_name" not in html and "full_name, birth_date" not in html
    assert response.context["field_labels"]["*"] == "Toàn bộ hồ sơ"
