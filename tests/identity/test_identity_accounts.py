"""Identity accounts: level-1 registration against the registry, OTP, devices, step-up,
officer actions, guardianship, and the attacks of issue #3 (each a test)."""

from __future__ import annotations

import io
import re
from datetime import date

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import RequestFactory
from PIL import Image

from popid.core import messaging
from popid.core.access import AccessContext, Actor
from popid.core.net import Client as Caller
from popid.identity import auth, services
from popid.identity.errors import OtpInvalid, Throttled
from popid.identity.models import AccountStatus, CitizenAccount, Guardianship, LoginEvent, OtpPurpose
from popid.registry import selectors as registry_selectors
from popid.registry import services as registry_services
from popid.registry.errors import PersonNotFound
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db
PASSWORD = "Mat-khau-cong-dan-2024"
PASSCODE = "246810"
PHONE = "0912345678"


@pytest.fixture(autouse=True)
def clean_state(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "_after_commit", lambda callback: callback())  # test transactions never commit
    settings.DATA_DIR = tmp_path
    cache.clear()
    yield
    cache.clear()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 50)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 150, 120)).save(buffer, format=fmt)
    return buffer.getvalue()


def photo(fmt: str = "PNG", name: str = "mat.png", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else image_bytes(fmt), content_type="image/png")


def form_data(person, **overrides):
    data = {"id_number": person.id_number, "full_name": person.full_name,
            "birth_date": person.birth_date.isoformat(), "phone": PHONE, "email": "",
            "password": PASSWORD, "password_confirm": PASSWORD, "passcode": PASSCODE, "face_photo": photo()}
    data.update(overrides)
    return data


def last_otp(phone: str = PHONE) -> str:
    return re.search(r"\b(\d{6})\b", messaging.read_outbox(to=phone)[-1]["text"]).group(1)


def make_account(person, *, level: int = 1, phone: str = PHONE) -> CitizenAccount:
    caller = Caller(ip="10.0.0.1")
    account, challenge = services.register_account(
        id_number=person.id_number, full_name=person.full_name, birth_date=person.birth_date, phone=phone,
        email="", face_photo=photo(), password=PASSWORD, passcode=PASSCODE)
    services.confirm_phone(client=caller, account=account, challenge_id=challenge.pk, code=last_otp(phone))
    if level == 2:
        CitizenAccount.objects.filter(pk=account.pk).update(level=2)
    return CitizenAccount.objects.get(pk=account.pk)


def login(client: Client, account: CitizenAccount, *, next_url: str = "") -> object:
    """Full login: password, then the new-device OTP if the browser has no device cookie."""
    response = client.post("/tai-khoan/dang-nhap/", {"id_number": account.id_number, "password": PASSWORD,
                                                    "next": next_url})
    if response.status_code == 302 and response["Location"] == "/tai-khoan/xac-thuc-otp/":
        response = client.post("/tai-khoan/xac-thuc-otp/", {"code": last_otp(account.phone)})
    return response


# --- level 1 registration ----------------------------------------------------------------------
def test_registration_matches_registry_sends_otp_and_confirms_phone(client, family):
    an = family["an"]
    response = client.post("/tai-khoan/dang-ky/", form_data(an, full_name="nguyen van AN"))
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/xac-thuc-otp/"
    account = CitizenAccount.objects.get(person=an)
    assert account.level == 1 and account.phone_verified_at is None
    assert account.user.check_password(PASSWORD)  # the production hasher: tests/core/test_hashers.py
    assert account.face_photo.name.endswith(".png") and "mat" not in account.face_photo.name
    assert account.otp_challenges.get().code_hash.count(last_otp()) == 0  # hashed at rest
    assert client.post("/tai-khoan/xac-thuc-otp/", {"code": last_otp()}).status_code == 302
    account.refresh_from_db()
    assert account.phone_verified_at is not None


@pytest.mark.parametrize(("override", "field"), [
    ({"full_name": "Nguyễn Văn Ân Khác"}, "full_name"),
    ({"birth_date": "1990-05-13"}, "birth_date"),
    ({"id_number": "001099999999"}, "id_number"),
    ({"id_number": "12345abc"}, "id_number"),
    ({"id_number": "0010900000001"}, "id_number"),
    ({"phone": "12345"}, "phone"),
    ({"passcode": "123456"}, "passcode"),
    ({"passcode": "12ab56"}, "passcode"),
    ({"password": "short", "password_confirm": "short"}, "password"),
])
def test_registration_with_wrong_or_malformed_data_is_refused_and_saves_nothing(client, family, override, field):
    response = client.post("/tai-khoan/dang-ky/", form_data(family["an"], **override))
    assert response.status_code in {422, 409}
    assert field in response.context["form"].errors or response.context["form"].domain_error
    assert not CitizenAccount.objects.exists()
    assert not get_user_model().objects.filter(username=family["an"].id_number).exists()
    assert messaging.read_outbox() == []


def test_registry_mismatch_reason_is_translated_and_clear(client, family):
    response = client.post("/tai-khoan/dang-ky/", form_data(family["an"], full_name="Trần Văn Khác"))
    assert "Họ và tên không khớp" in response.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post("/tai-khoan/dang-ky/", form_data(family["an"], full_name="Trần Văn Khác"))
    assert "does not match" in response.content.decode()


@pytest.mark.parametrize("upload", [
    lambda: photo(data=b"\xff\xd8" + b"0" * (2 * 1024 * 1024)),  # over 2 MB
    lambda: photo(data=b"#!/bin/sh\necho not an image\n", name="mat.jpg"),
    lambda: photo("GIF", name="mat.gif"),
    lambda: photo(data=image_bytes("PNG")[:60]),  # truncated
])
def test_oversize_or_non_image_photos_are_refused(client, family, upload):
    response = client.post("/tai-khoan/dang-ky/", form_data(family["an"], face_photo=upload()))
    assert response.status_code == 422
    assert "face_photo" in response.context["form"].errors
    assert not CitizenAccount.objects.exists()


def test_children_and_the_dead_cannot_self_register(client, family, admin_actor):
    response = client.post("/tai-khoan/dang-ky/", form_data(family["khoi"]))
    assert response.status_code == 422 and not CitizenAccount.objects.exists()
    registry_services.record_death(actor=admin_actor, id_number=family["grandma"].id_number,
                                   died_on=date(2024, 1, 1), reason="Khai tử", legal_ref="Luật Hộ tịch")
    response = client.post("/tai-khoan/dang-ky/", form_data(family["grandma"]))
    assert response.status_code == 422 and not CitizenAccount.objects.exists()


def test_second_registration_for_the_same_number_is_refused(client, family):
    make_account(family["an"])
    response = client.post("/tai-khoan/dang-ky/", form_data(family["an"]))
    assert response.status_code == 409 and CitizenAccount.objects.count() == 1


# --- OTP ---------------------------------------------------------------------------------------
def _request(ip: str = "10.0.0.9") -> Caller:
    return Caller(ip=ip)


def test_replayed_or_expired_otp_is_refused(family):
    account = make_account(family["an"])
    challenge = services.send_otp(client=_request(), account=account, purpose=OtpPurpose.NEW_DEVICE)
    code = last_otp()
    services.activate_new_device(client=_request(), account=account, challenge_id=challenge.pk, code=code)
    with pytest.raises(OtpInvalid):  # replay
        services.activate_new_device(client=_request(), account=account, challenge_id=challenge.pk, code=code)
    challenge = services.send_otp(client=_request(), account=account, purpose=OtpPurpose.NEW_DEVICE)
    code = last_otp()
    type(challenge).objects.filter(pk=challenge.pk).update(expires_at=challenge.created_at)
    with pytest.raises(OtpInvalid):
        services.activate_new_device(client=_request(), account=account, challenge_id=challenge.pk, code=code)


def test_otp_guessing_backs_off_per_ip_and_dies_after_max_attempts_without_locking_the_owner(family):
    account = make_account(family["an"])
    challenge = services.send_otp(client=_request(), account=account, purpose=OtpPurpose.NEW_DEVICE)
    code = last_otp()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):
        with pytest.raises(OtpInvalid):
            services.activate_new_device(client=_request("203.0.113.5"), account=account,
                                         challenge_id=challenge.pk, code=wrong)
    with pytest.raises(OtpInvalid):
        services.activate_new_device(client=_request("203.0.113.5"), account=account,
                                     challenge_id=challenge.pk, code=wrong)
    with pytest.raises(Throttled):  # the guesser now waits
        services.activate_new_device(client=_request("203.0.113.5"), account=account,
                                     challenge_id=challenge.pk, code=code)
    challenge.refresh_from_db()
    assert challenge.attempts == 4
    # the owner from their own address is not slowed by the stranger and can still finish
    services.activate_new_device(client=_request("198.51.100.1"), account=account, challenge_id=challenge.pk,
                                 code=code)
    # a challenge that reached the attempt limit is dead even for the right code; a new one works
    challenge = services.send_otp(client=_request("198.51.100.1"), account=account, purpose=OtpPurpose.NEW_DEVICE)
    code = last_otp()
    type(challenge).objects.filter(pk=challenge.pk).update(attempts=services.OTP_MAX_ATTEMPTS)
    with pytest.raises(OtpInvalid):
        services.activate_new_device(client=_request("198.51.100.2"), account=account,
                                     challenge_id=challenge.pk, code=code)


# --- login, devices ----------------------------------------------------------------------------
def test_new_device_needs_otp_then_becomes_the_only_device(family):
    account = make_account(family["an"])
    first = Client()
    response = first.post("/tai-khoan/dang-nhap/", {"id_number": account.id_number, "password": PASSWORD})
    assert response["Location"] == "/tai-khoan/xac-thuc-otp/"
    assert first.get("/tai-khoan/").status_code == 302  # not logged in before the OTP
    response = first.post("/tai-khoan/xac-thuc-otp/", {"code": last_otp()})
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/"
    cookie = response.cookies[auth.DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert first.session[auth.SESSION_ACR] == "level-1" and first.session[auth.SESSION_AMR] == ["pwd", "otp"]
    # same browser again: known device, no OTP
    first.post("/tai-khoan/dang-xuat/")
    outbox_before = len(messaging.read_outbox())
    response = first.post("/tai-khoan/dang-nhap/", {"id_number": account.id_number, "password": PASSWORD})
    assert response["Location"] == "/tai-khoan/" and len(messaging.read_outbox()) == outbox_before
    assert first.session[auth.SESSION_AMR] == ["pwd"]
    # a second browser logs in with OTP: the first browser's session ends
    second = Client()
    assert login(second, account).status_code == 302
    assert second.get("/tai-khoan/").status_code == 200
    assert first.get("/tai-khoan/").status_code == 302
    assert account.devices.filter(revoked_at__isnull=True).count() == 1
    assert set(LoginEvent.objects.filter(account=account).values_list("result", flat=True)) == {"success"}


def test_forged_or_tampered_device_cookie_is_an_unknown_device(family):
    account = make_account(family["an"])
    browser = Client()
    login(browser, account)
    device = account.devices.get(revoked_at__isnull=True)
    for forged in [device.public_id, browser.cookies[auth.DEVICE_COOKIE].value[:-2] + "xx", "e30:forged:sig"]:
        attacker = Client()
        attacker.cookies[auth.DEVICE_COOKIE] = forged
        response = attacker.post("/tai-khoan/dang-nhap/", {"id_number": account.id_number, "password": PASSWORD})
        assert response["Location"] == "/tai-khoan/xac-thuc-otp/"


def test_password_guessing_slows_the_guesser_not_the_owner(family):
    account = make_account(family["an"])
    owner = Client(REMOTE_ADDR="198.51.100.7")
    login(owner, account)
    owner.post("/tai-khoan/dang-xuat/")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(4):
        assert attacker.post("/tai-khoan/dang-nhap/", {"id_number": account.id_number,
                                                       "password": "sai-mat-khau"}).status_code == 401
    blocked = attacker.post("/tai-khoan/dang-nhap/", {"id_number": account.id_number, "password": PASSWORD})
    assert blocked.status_code == 429 and "thử lại sau" in blocked.content.decode()
    assert owner.post("/tai-khoan/dang-nhap/", {"id_number": account.id_number,
                                                "password": PASSWORD}).status_code == 302
    assert LoginEvent.objects.filter(account=account, result="wrong_password", ip="203.0.113.9").count() == 4


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_next_cannot_redirect_off_site(family, target):
    account = make_account(family["an"])
    response = login(Client(), account, next_url=target)
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/"


def test_next_to_a_local_path_is_followed(family):
    account = make_account(family["an"])
    response = login(Client(), account, next_url="/tai-khoan/lich-su/?a=1")
    assert response["Location"] == "/tai-khoan/lich-su/?a=1"


@pytest.mark.parametrize("path", ["/tai-khoan/dang-ky/", "/tai-khoan/dang-nhap/", "/tai-khoan/xac-thuc-otp/",
                                  "/tai-khoan/bao-mat/", "/tai-khoan/thiet-bi/", "/tai-khoan/thao-tac-thay/",
                                  "/tai-khoan/giam-ho/", "/tai-khoan/xac-thuc-nang-cao/", "/tai-khoan/dang-xuat/",
                                  "/tai-khoan/quen-mat-khau/", "/tai-khoan/mo-khoa/"])
def test_every_form_needs_a_csrf_token(family, path):
    account = make_account(family["an"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(account.user)
    assert browser.post(path, {"id_number": account.id_number, "password": PASSWORD,
                               "action": "lock"}).status_code == 403
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_prompt_login_forces_the_form(family):
    account = make_account(family["an"])
    browser = Client()
    login(browser, account)
    assert browser.get("/tai-khoan/dang-nhap/?next=/tai-khoan/lich-su/").status_code == 302
    assert browser.get("/tai-khoan/dang-nhap/?prompt=login&next=/tai-khoan/").status_code == 200


# --- step-up -----------------------------------------------------------------------------------
def test_step_up_explains_level_two_to_a_level_one_account(family):
    account = make_account(family["an"])
    browser = Client()
    login(browser, account)
    response = browser.get("/tai-khoan/xac-thuc-nang-cao/?next=/tai-khoan/&acr=level-2")
    assert response.status_code == 403 and "công an xã/phường" in response.content.decode()
    assert browser.post("/tai-khoan/xac-thuc-nang-cao/", {"code": PASSCODE}).status_code == 403
    assert browser.session[auth.SESSION_ACR] == "level-1"


def test_step_up_with_passcode_gives_level_two(family):
    account = make_account(family["an"], level=2)
    browser = Client()
    login(browser, account)
    wrong = browser.post("/tai-khoan/xac-thuc-nang-cao/", {"code": "135799", "next": "/tai-khoan/lich-su/"})
    assert wrong.status_code == 401 and browser.session[auth.SESSION_ACR] == "level-1"
    response = browser.post("/tai-khoan/xac-thuc-nang-cao/", {"code": PASSCODE, "next": "/tai-khoan/lich-su/"})
    assert response["Location"] == "/tai-khoan/lich-su/"
    assert browser.session[auth.SESSION_ACR] == "level-2"
    assert browser.session[auth.SESSION_AMR] == ["pwd", "otp", "passcode"]


def test_totp_enrolment_with_server_side_qr_then_step_up_with_totp(family):
    account = make_account(family["an"], level=2)
    browser = Client()
    login(browser, account)
    page = browser.get("/tai-khoan/bao-mat/")
    secret = browser.session["popid_totp_pending"]
    qr = browser.get("/tai-khoan/bao-mat/totp.svg")
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    # The QR is drawn on the server: the page runs only the portal's own small scripts (the portal
    # and the installable app's), no QR library.
    assert re.findall(r"<script[^>]*>", page.content.decode()) == ['<script src="/static/web/portal.js" defer>',
                                                                 '<script src="/static/web/pwa.js" defer>']
    assert browser.post("/tai-khoan/bao-mat/", {"action": "totp_enable", "code": "000000"}).status_code == 401
    code = pyotp.TOTP(secret).now()
    assert browser.post("/tai-khoan/bao-mat/", {"action": "totp_enable", "code": code}).status_code == 302
    account.refresh_from_db()
    assert account.totp_secret == secret
    browser.post("/tai-khoan/xac-thuc-nang-cao/", {"code": pyotp.TOTP(secret).now()})
    assert browser.session[auth.SESSION_ACR] == "level-2" and "totp" in browser.session[auth.SESSION_AMR]


# --- security settings, locks, recovery --------------------------------------------------------
def test_change_password_needs_the_old_one(family):
    account = make_account(family["an"])
    browser = Client()
    login(browser, account)
    bad = browser.post("/tai-khoan/bao-mat/", {"action": "password", "old_password": "sai",
                                               "new_password": "Mat-khau-moi-2025"})
    assert bad.status_code == 401
    ok = browser.post("/tai-khoan/bao-mat/", {"action": "password", "old_password": PASSWORD,
                                              "new_password": "Mat-khau-moi-2025"})
    assert ok.status_code == 302
    account.user.refresh_from_db()
    assert account.user.check_password("Mat-khau-moi-2025")


def test_citizen_self_lock_then_unlock_with_password_and_otp(family):
    account = make_account(family["an"])
    browser = Client()
    login(browser, account)
    browser.post("/tai-khoan/bao-mat/", {"action": "lock", "reason": "Mất điện thoại"})
    account.refresh_from_db()
    assert account.status == AccountStatus.LOCKED_BY_CITIZEN
    assert browser.get("/tai-khoan/").status_code == 302
    other = Client()
    assert other.post("/tai-khoan/dang-nhap/", {"id_number": account.id_number,
                                                "password": PASSWORD}).status_code == 403
    response = other.post("/tai-khoan/mo-khoa/", {"id_number": account.id_number, "password": PASSWORD})
    assert response["Location"] == "/tai-khoan/xac-thuc-otp/"
    other.post("/tai-khoan/xac-thuc-otp/", {"code": last_otp()})
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_recovery_by_otp_does_not_reveal_accounts(family):
    account = make_account(family["an"])
    browser = Client()
    unknown = browser.post("/tai-khoan/quen-mat-khau/", {"id_number": family["binh"].id_number, "phone": PHONE})
    assert unknown["Location"] == "/tai-khoan/xac-thuc-otp/"
    assert browser.post("/tai-khoan/xac-thuc-otp/", {"code": "111111", "new_password": "Mat-khau-moi-2025"}
                        ).status_code == 422
    browser = Client()
    browser.post("/tai-khoan/quen-mat-khau/", {"id_number": account.id_number, "phone": "+84 912 345 678"})
    response = browser.post("/tai-khoan/xac-thuc-otp/", {"code": last_otp(), "new_password": "Mat-khau-moi-2025"})
    assert response["Location"] == "/tai-khoan/dang-nhap/"
    account.user.refresh_from_db()
    assert account.user.check_password("Mat-khau-moi-2025")


# --- officer actions ---------------------------------------------------------------------------
@pytest.fixture
def officer_client(officer_hoan_kiem):
    browser = Client()
    browser.force_login(officer_hoan_kiem)
    return browser


def test_officer_activates_level_two_after_checking_the_card(officer_client, family):
    account = make_account(family["an"])
    page = officer_client.get(f"/persons/{family['an'].id_number}/")
    assert f"/tai-khoan/can-bo/{family['an'].id_number}/" in page.content.decode()
    url = f"/tai-khoan/can-bo/{family['an'].id_number}/level2/"
    refused = officer_client.post(url, {"card_number": "001099000000"})
    assert refused.status_code == 422
    account.refresh_from_db()
    assert account.level == 1
    assert officer_client.post(url, {"card_number": family["an"].id_number}).status_code == 302
    account.refresh_from_db()
    assert account.level == 2 and account.level2_officer == "cb.hoankiem"
    assert account.level2_unit == "Công an phường Hoàn Kiếm" and account.level2_card_number == family["an"].id_number
    assert account.events.filter(kind="level2_activated", actor="cb.hoankiem").exists()


def test_officer_outside_jurisdiction_or_supervisor_cannot_act(officer_hcm, family):
    account = make_account(family["an"])
    browser = Client()
    browser.force_login(officer_hcm)
    url = f"/tai-khoan/can-bo/{family['an'].id_number}/level2/"
    assert browser.post(url, {"card_number": family["an"].id_number}).status_code == 404
    supervisor = make_staff("gs.hn", role="supervisor", level="province", unit_code="01")
    browser.force_login(supervisor)
    assert browser.post(url, {"card_number": family["an"].id_number}).status_code == 403
    citizen = Client()
    login(citizen, account)
    assert citizen.post(url, {"card_number": family["an"].id_number}).status_code != 302
    account.refresh_from_db()
    assert account.level == 1


def test_officer_lock_ends_sessions_and_refuses_self_unlock(officer_client, family):
    account = make_account(family["an"])
    citizen = Client()
    login(citizen, account)
    base = f"/tai-khoan/can-bo/{family['an'].id_number}/"
    assert officer_client.post(base + "lock/", {"reason": ""}).status_code == 422
    assert officer_client.post(base + "lock/", {"reason": "Nghi bị chiếm đoạt"}).status_code == 302
    assert citizen.get("/tai-khoan/").status_code == 302
    response = Client().post("/tai-khoan/mo-khoa/", {"id_number": account.id_number, "password": PASSWORD})
    assert response.status_code == 403
    assert officer_client.post(base + "unlock/", {"reason": "Đã xác minh"}).status_code == 302
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert list(account.events.values_list("kind", flat=True).order_by("id"))[-2:] == [
        "locked_by_officer", "unlocked_by_officer"]


# --- guardianship and the citizen actor --------------------------------------------------------
def test_level_two_parent_creates_and_acts_for_child(family):
    an = make_account(family["an"], level=2)
    browser = Client()
    login(browser, an)
    assert browser.post("/tai-khoan/giam-ho/", {"ward_id_number": family["khoi"].id_number,
                                               "passcode": "135799"}).status_code == 401
    response = browser.post("/tai-khoan/giam-ho/", {"ward_id_number": family["khoi"].id_number,
                                                   "passcode": PASSCODE})
    assert response.status_code == 302
    link = Guardianship.objects.get(guardian=an)
    assert link.ward.person == family["khoi"] and link.kind == "parent"
    assert not link.ward.user.has_usable_password()
    browser.post("/tai-khoan/thao-tac-thay/", {"ward": link.ward_id})
    page = browser.get("/tai-khoan/")
    assert "Nguyễn Minh Khôi" in page.content.decode() and "thao tác thay" in page.content.decode()
    request = RequestFactory().get("/")
    request.session = browser.session
    request.user = an.user
    assert auth.acting_for(request) == link.ward
    assert link.ward.events.filter(kind="acting_started", actor=an.id_number).exists()
    # the ward's page shows who manages it
    browser.post("/tai-khoan/thao-tac-thay/", {"ward": ""})
    assert "Nguyễn Minh Khôi" in browser.get("/tai-khoan/").content.decode()


def test_guardianship_refused_without_registry_relation_or_level_two(family):
    an = make_account(family["an"], level=2)
    browser = Client()
    login(browser, an)
    response = browser.post("/tai-khoan/giam-ho/", {"ward_id_number": family["grandma"].id_number,
                                                   "passcode": PASSCODE})
    assert response.status_code == 422 or response.status_code == 403
    binh = make_account(family["binh"], phone="0987654321")
    other = Client()
    login(other, binh)
    assert other.post("/tai-khoan/giam-ho/", {"ward_id_number": family["khoi"].id_number,
                                             "passcode": PASSCODE}).status_code == 403
    assert not Guardianship.objects.exists()
    assert other.post("/tai-khoan/thao-tac-thay/", {"ward": "999"}).status_code == 302


def test_citizen_actor_reads_only_own_and_wards_records(family):
    actor = Actor.citizen(id_number=family["an"].id_number, person_id=family["an"].pk,
                          ward_person_ids=[family["khoi"].pk])
    ctx = AccessContext(actor=actor, purpose="test")
    assert registry_selectors.access_person(ctx=ctx, id_number=family["an"].id_number) == family["an"]
    assert registry_selectors.access_person(ctx=ctx, id_number=family["khoi"].id_number) == family["khoi"]
    with pytest.raises(PersonNotFound):
        registry_selectors.access_person(ctx=ctx, id_number=family["binh"].id_number)
    assert not actor.may_write and not actor.covers_commune(family["an"].commune_code)
    assert registry_selectors.search_persons(ctx=ctx, name="Nguyen")[1] == 0


def test_account_pages_render_in_vietnamese_without_inline_code(family):
    account = make_account(family["an"])
    browser = Client()
    login(browser, account)
    for path in ["/tai-khoan/", "/tai-khoan/thiet-bi/", "/tai-khoan/dong-y/", "/tai-khoan/lich-su/",
                 "/tai-khoan/bao-mat/"]:
        response = browser.get(path)
        html = response.content.decode()
        assert response.status_code == 200, path
        assert "<script>" not in html and "style=" not in html
    assert "Hàng Bạc" in browser.get("/tai-khoan/").content.decode()
    assert "success" in browser.get("/tai-khoan/lich-su/").content.decode()


def test_anonymous_users_are_sent_to_login_with_next(client, db):
    response = client.get("/tai-khoan/bao-mat/")
    assert response.status_code == 302
    assert response["Location"] == "/tai-khoan/dang-nhap/?next=%2Ftai-khoan%2Fbao-mat%2F"


def test_consents_are_listed_and_revocable_only_by_their_owner(family):
    from popid.identity.oidc import services as oidc_services
    from popid.identity.oidc.models import AuthMethod, Consent

    client_app, _secret = oidc_services.register_client(
        name="Cổng dịch vụ công", redirect_uris=["https://dvc.example/cb"],
        token_endpoint_auth_method=AuthMethod.CLIENT_SECRET_BASIC)
    an = make_account(family["an"])
    binh = make_account(family["binh"], phone="0987654321")
    consent = Consent.objects.create(account=an, client=client_app, scopes=["openid", "profile"], granted_by=an)
    stranger = Client()
    login(stranger, binh)
    stranger.post("/tai-khoan/dong-y/", {"consent": consent.pk})
    consent.refresh_from_db()
    assert consent.revoked_at is None
    owner = Client()
    login(owner, an)
    page = owner.get("/tai-khoan/dong-y/").content.decode()
    assert "Cổng dịch vụ công" in page and "openid, profile" in page
    owner.post("/tai-khoan/dong-y/", {"consent": consent.pk})
    consent.refresh_from_db()
    assert consent.revoked_at is not None
