"""The citizen's passport end to end: the form pre-filled from the registry, the portrait checked by
its content, 200,000 VND paid through the payment gateway (signed callback), the dossier due in 8
working days, the officer's approval writes the passport (number, dates, MRZ), the citizen adds it
to the wallet as an SD-JWT VC that a verifier accepts, then declares it lost on the passport page:
the passport is cancelled at once and the same credential is refused as revoked."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from PIL import Image

from popid.core.access import Actor
from popid.core.errors import DomainError, ValidationFailed
from popid.identity.actors import citizen_actor
from popid.identity.auth import SESSION_ACR, SESSION_AMR, SESSION_AUTH_TIME
from popid.identity.models import CitizenAccount
from popid.immigration import mrz, services
from popid.immigration.errors import PassportAlreadyLost, PassportNotFound
from popid.immigration.models import Passport, PassportLoss, PassportStatus
from popid.registry.models import OutboxEvent
from popid.services import dossiers, submissions
from popid.services.calendar import receipt_day, working_days_between
from popid.services.models import Dossier, Payment
from popid.services.payments.sandbox import SIGNATURE_HEADER, SandboxGateway, notice_for
from popid.wallet import sdjwt, verifier
from popid.wallet import services as wallet
from popid.wallet.claims import available_documents
from popid.wallet.errors import DocumentUnavailable
from popid.wallet.models import CredentialStatus, IssuedCredential

pytestmark = pytest.mark.django_db
BASE = "http://testserver"


@pytest.fixture
def citizen(family, settings, tmp_path) -> CitizenAccount:
    settings.DATA_DIR = tmp_path  # keys, payment secret and uploads of this test only
    an = family["an"]
    user = get_user_model().objects.create_user(username=an.id_number, password="Mat-khau-cong-dan-1")
    return CitizenAccount.objects.create(
        user=user, person=an, level=2, phone="0912345678", phone_verified_at=timezone.now(),
        passcode_hash=make_password("246810"), level2_activated_at=timezone.now(), level2_officer="cb.hoankiem",
        level2_unit="Công an phường Hoàn Kiếm", level2_card_number=an.id_number)


def login(client, account):
    client.force_login(account.user)
    session = client.session
    session[SESSION_ACR], session[SESSION_AMR] = "level-2", ["pwd", "passcode"]
    session[SESSION_AUTH_TIME] = int(timezone.now().timestamp())
    session.save()
    return client


def portrait(fmt: str = "PNG", size=(40, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format=fmt)
    return out.getvalue()


def form_data(person) -> dict:
    return {"id_number": person.id_number, "full_name": person.full_name,
            "birth_date": person.birth_date.isoformat(), "sex": person.sex}


def pay_and_submit(client, account) -> Dossier:
    submission, _created = submissions.prepare_submission(
        account=account, procedure_code="passport", data=form_data(account.person), idempotency_key="hc-1",
        attachments=[dossiers.IncomingFile("portrait", "anh.jpg", portrait("JPEG"), "image/jpeg")])
    payment, _url = submissions.start_payment(account=account, public_id=submission.public_id,
                                              return_url="http://testserver/dich-vu-cong/", callback_url="http://x/")
    assert payment.amount == submission.fee == 200_000 and not Dossier.objects.exists()
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=True))
    response = client.post("/api/v1/services/payments/callback", notice.body, content_type="application/json",
                           headers={SIGNATURE_HEADER: notice.signature})
    assert response.status_code == 200, response.content
    return Dossier.objects.get(code=response.json()["dossier"])


def present(account, held, claims):
    session = verifier.create_session(base=BASE)
    payload = wallet.present(account=account, pk=held.pk, claims=claims, nonce=session.nonce,
                             audience=session.audience)
    return verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE)


def test_apply_pay_approve_wallet_then_lost_refuses(client, citizen, officer_hoan_kiem):
    an = citizen.person
    web = login(client, citizen)
    page = web.get("/dich-vu-cong/thu-tuc/passport/")
    assert page.status_code == 200
    text = page.content.decode()
    assert an.full_name in text and an.id_number in text  # pre-filled from the registry
    assert "200.000" in text or "200,000" in text

    dossier = pay_and_submit(client, citizen)
    assert dossier.fee == 200_000 and Payment.objects.get().state == "paid"
    assert working_days_between(receipt_day(dossier.received_at), dossier.deadline) == 8

    officer = Actor.for_user(officer_hoan_kiem)
    dossier = dossiers.claim(actor=officer, code=dossier.code, expected_version=dossier.version)
    dossiers.approve(actor=officer, code=dossier.code, expected_version=dossier.version)
    passport = Passport.objects.get(person=an)
    zone = mrz.parse(passport.mrz)
    assert zone.document_number == passport.number and zone.expiry_date == passport.expiry_date

    # the passport page and the wallet offer it; the credential is signed by A08 and verifies
    web = login(client, citizen)
    mine = web.get("/ho-chieu/")
    assert mine.status_code == 200 and f'data-passport="{passport.number}"' in mine.content.decode()
    assert ("ho_chieu", passport.number) in [(c, r) for c, r, _label in available_documents(an)]
    added = web.post("/vi-giay-to/them/", {"config_id": "ho_chieu", "document_ref": passport.number})
    assert added.status_code == 302
    held = wallet.wallet_credentials(citizen)[0]
    token = sdjwt.parse(held.sd_jwt)
    assert token.payload["iss"].endswith("/to-chuc/a08") and token.payload["vct"] == "urn:vn:popid:ho-chieu:1"
    result = present(citizen, held, ["passport_number", "full_name", "passport_valid_until"])
    assert result.accepted, result.reason
    assert result.disclosed == {"passport_number": passport.number, "full_name": an.full_name,
                                "passport_valid_until": passport.expiry_date.isoformat()}

    # lost: one form, the passport is cancelled and the verifier refuses the credential at once
    lost = web.post("/ho-chieu/", {"number": passport.number, "lost_on": date.today().isoformat(),
                                   "place": "Sân bay Nội Bài", "circumstances": "Bị mất ví", "confirm": "on"})
    assert lost.status_code == 302
    passport.refresh_from_db()
    assert passport.status == PassportStatus.LOST and PassportLoss.objects.get().declared_by == an.id_number
    assert OutboxEvent.objects.filter(topic=services.TOPIC_PASSPORT_STATUS, aggregate_id=passport.number).exists()
    refused = present(citizen, held, ["passport_number"])
    assert not refused.accepted and refused.reason == "revoked"
    issued = IssuedCredential.objects.get(config_id="ho_chieu")
    assert issued.status == CredentialStatus.INVALID and issued.status_reason == "passport.lost"
    with pytest.raises(DocumentUnavailable):  # a lost passport cannot be added again
        wallet.add_to_wallet(account=citizen, config_id="ho_chieu", document_ref=passport.number, base=BASE)
    assert ("ho_chieu", passport.number) not in [(c, r) for c, r, _label in available_documents(an)]


def test_portrait_is_checked_by_content_and_size(citizen):
    data = form_data(citizen.person)
    cases = [
        dossiers.IncomingFile("portrait", "anh.jpg", b"%PDF-1.4 not a photo", "image/jpeg"),  # says JPEG, is not
        dossiers.IncomingFile("portrait", "anh.png", portrait("JPEG"), "image/png"),  # JPEG bytes named PNG
        dossiers.IncomingFile("portrait", "to.png", b"\x89PNG\r\n\x1a\n" + b"0" * (2048 * 1024), "image/png"),
    ]
    for item in cases:
        with pytest.raises(ValidationFailed) as caught:
            submissions.prepare_submission(account=citizen, procedure_code="passport", data=data,
                                           attachments=[item])
        assert caught.value.errors()[0]["reason"] in {"file_type", "too_large"}
    with pytest.raises(ValidationFailed) as missing:
        submissions.prepare_submission(account=citizen, procedure_code="passport", data=data, attachments=[])
    assert missing.value.errors()[0]["reason"] == "required"
    assert not Dossier.objects.exists() and not Payment.objects.exists()


def test_level1_account_cannot_apply(citizen):
    citizen.level = 1
    citizen.save(update_fields=["level"])
    with pytest.raises(DomainError):
        submissions.prepare_submission(account=citizen, procedure_code="passport", data=form_data(citizen.person),
                                       attachments=[dossiers.IncomingFile("portrait", "a.png", portrait(),
                                                                          "image/png")])


def test_lost_declaration_bad_input_changes_nothing(citizen, family):
    passport = services.issue_passport(actor=Actor.system(), id_number=citizen.person.id_number)
    other = services.issue_passport(actor=Actor.system(), id_number=family["binh"].id_number)
    actor = citizen_actor(citizen)
    today = date.today()
    with pytest.raises(PassportNotFound):  # another person's passport looks like none
        services.declare_passport_lost(actor=actor, number=other.number, lost_on=today, place="Hà Nội")
    with pytest.raises(PassportNotFound):
        services.declare_passport_lost(actor=actor, number="C9999999", lost_on=today, place="Hà Nội")
    for lost_on, place in [(today + timedelta(days=1), "Hà Nội"), (today - timedelta(days=1), "  "),
                           (passport.issued_on - timedelta(days=1), "Hà Nội")]:
        with pytest.raises(ValidationFailed):
            services.declare_passport_lost(actor=actor, number=passport.number, lost_on=lost_on, place=place)
    assert not PassportLoss.objects.exists()
    assert set(Passport.objects.values_list("status", flat=True)) == {PassportStatus.VALID}
    services.declare_passport_lost(actor=actor, number=passport.number.lower(), lost_on=today, place="Hà Nội")
    with pytest.raises(PassportAlreadyLost):
        services.declare_passport_lost(actor=actor, number=passport.number, lost_on=today, place="Hà Nội")
    assert PassportLoss.objects.count() == 1


def test_lost_form_errors_are_shown(client, citizen):
    passport = services.issue_passport(actor=Actor.system(), id_number=citizen.person.id_number)
    web = login(client, citizen)
    no_confirm = web.post("/ho-chieu/", {"number": passport.number, "lost_on": date.today().isoformat(),
                                         "place": "Hà Nội"})
    assert no_confirm.status_code == 422
    future = web.post("/ho-chieu/", {"number": passport.number, "place": "Hà Nội", "confirm": "on",
                                     "lost_on": (date.today() + timedelta(days=3)).isoformat()})
    assert future.status_code == 422 and "tương lai" in future.content.decode()
    passport.refresh_from_db()
    assert passport.status == PassportStatus.VALID
    assert re.search(r"Trình báo mất hộ chiếu", web.get("/ho-chieu/").content.decode())
