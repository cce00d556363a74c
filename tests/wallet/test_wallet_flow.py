"""The document wallet end to end on the Django test client: a level-2 citizen adds the driving
licence to the web wallet, presents "over 18 + name + licence class" to a verifier session, the
verifier accepts it; an officer suspends the licence and the same presentation is refused as
suspended; a death or a reissued ID number revokes; each attack is refused with its reason."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from popid.core.access import Actor
from popid.core.models import AccessRecord
from popid.documents import services as documents
from popid.documents.models import DrivingLicence
from popid.identity.auth import SESSION_ACR, SESSION_AMR, SESSION_AUTH_TIME
from popid.registry import services as registry
from popid.wallet import sdjwt, verifier
from popid.wallet import services as wallet
from popid.wallet.models import CredentialStatus, IssuedCredential, VerifierSession

BASE = "http://testserver"
PHONE = "0912345678"


@pytest.fixture
def citizen(family, settings, tmp_path):
    from popid.identity.models import CitizenAccount

    settings.DATA_DIR = tmp_path  # keys and SMS outbox of this test only
    an = family["an"]
    user = get_user_model().objects.create_user(username=an.id_number, password="Mat-khau-cong-dan-1")
    return CitizenAccount.objects.create(
        user=user, person=an, level=2, phone=PHONE, phone_verified_at=timezone.now(),
        passcode_hash=make_password("246810"), level2_activated_at=timezone.now(), level2_officer="cb.hoankiem",
        level2_unit="Công an phường Hoàn Kiếm", level2_card_number=an.id_number)


@pytest.fixture
def licence(citizen, admin_actor) -> DrivingLicence:
    return documents.issue_licence(
        actor=admin_actor, person=citizen.person, number="010123456789",
        classes=[{"class": "A1", "issued_on": "2010-06-01"},
                 {"class": "B", "issued_on": "2015-03-01", "valid_until": "2035-03-01"}],
        issued_on=date(2010, 6, 1), valid_until=date(2035, 3, 1), issued_by="Phòng CSGT Hà Nội")


def level2_client(client, account):
    client.force_login(account.user)
    session = client.session
    session[SESSION_ACR], session[SESSION_AMR] = "level-2", ["pwd", "passcode"]
    session[SESSION_AUTH_TIME] = int(timezone.now().timestamp())
    session.save()
    return client


def present_licence(account, credential, session, claims=("age_over_18", "full_name", "driving_classes"), **kw):
    return wallet.present(account=account, pk=credential.pk, claims=list(claims), nonce=session.nonce,
                          audience=session.audience, **kw)


def test_done_when_add_present_accept_then_suspend_refuses(client, citizen, licence, officer_hoan_kiem):
    web = level2_client(client, citizen)
    page = web.get("/vi-giay-to/")
    assert page.status_code == 200 and licence.number in page.content.decode()
    response = web.post("/vi-giay-to/them/", {"config_id": "giay_phep_lai_xe", "document_ref": licence.number})
    assert response.status_code == 302
    pk = int(re.search(r"/giay-to/(\d+)/", response["Location"]).group(1))

    verifier_page = client.post("/giay-to/xac-minh/")  # any verifier may open a session
    session = VerifierSession.objects.get(public_id=verifier_page["Location"].rstrip("/").split("/")[-1])
    web = level2_client(client, citizen)
    shown = web.post(f"/vi-giay-to/giay-to/{pk}/", {"claims": ["age_over_18", "full_name", "driving_classes"],
                                                      "session": session.public_id})
    assert shown.status_code == 200
    body = shown.content.decode()
    assert 'src="data:image/svg+xml;base64,' in body
    payload = re.search(r'<textarea id="presentation-payload"[^>]*>([^<]+)</textarea>', body).group(1)

    accepted = client.post(f"/giay-to/xac-minh/{session.public_id}/", {"payload": payload})
    assert accepted.status_code == 200
    text = accepted.content.decode()
    assert 'data-accepted="true"' in text
    disclosed = dict(re.findall(r'data-claim="([a-z_0-9]+)">([^<]*)<', text))
    assert disclosed == {"age_over_18": "Có", "full_name": "Nguyễn Văn An", "driving_classes": "A1, B"}
    assert "1990" not in text  # the birth date was not disclosed

    client.force_login(officer_hoan_kiem)
    suspended = client.post(f"/giay-to/gplx/{licence.number}/tam-giu/",
                            {"reason": "Tước quyền sử dụng 3 tháng", "legal_ref": "Nghị định 168/2024/NĐ-CP",
                             "version": licence.version})
    assert suspended.status_code == 302
    refused = client.post(f"/giay-to/xac-minh/{session.public_id}/", {"payload": payload})
    assert refused.status_code == 422
    assert 'data-reason="suspended"' in refused.content.decode()
    assert "disclosed-claims" not in refused.content.decode()  # a refused document shows no claims


def _issue(citizen, licence):
    return wallet.add_to_wallet(account=citizen, config_id="giay_phep_lai_xe", document_ref=licence.number, base=BASE)


def test_issued_credential_shape_and_access_record(citizen, licence):
    before = AccessRecord.objects.count()
    credential = _issue(citizen, licence)
    parsed = sdjwt.parse(credential.sd_jwt)
    assert parsed.header["typ"] == "dc+sd-jwt" and parsed.header["alg"] == "ES256"
    payload = parsed.payload
    assert payload["vct"] == "urn:vn:popid:giay-phep-lai-xe:1"
    assert payload["iss"] == f"{BASE}/vi-giay-to/to-chuc/c08"
    assert set(payload["cnf"]["jwk"]) == {"kty", "crv", "x", "y"}
    assert payload["status"]["status_list"]["uri"] == f"{BASE}/vi-giay-to/to-chuc/c08/trang-thai/1"
    assert "full_name" not in payload and "birth_date" not in payload  # only digests are visible
    claims = parsed.disclosed()
    assert claims["age_over_18"][1] is True and claims["driving_classes"][1] == ["A1", "B"]
    assert claims["licence_points"][1] == 12
    assert AccessRecord.objects.count() == before + 1
    record = AccessRecord.objects.latest("id")
    assert record.person_id_number == citizen.person.id_number and record.channel == "wallet"


def test_issuer_metadata_jwks_and_status_list_are_published(client, citizen, licence):
    credential = _issue(citizen, licence)
    meta = client.get("/.well-known/jwt-vc-issuer/vi-giay-to/to-chuc/c08").json()
    assert meta["issuer"] == f"{BASE}/vi-giay-to/to-chuc/c08"
    kid = sdjwt.parse(credential.sd_jwt).header["kid"]
    assert kid in {k["kid"] for k in meta["jwks"]["keys"]}
    assert all("d" not in k for k in meta["jwks"]["keys"])
    other = client.get("/.well-known/jwt-vc-issuer/vi-giay-to/to-chuc/c06").json()
    assert kid not in {k["kid"] for k in other["jwks"]["keys"]}  # one keyset per authority
    response = client.get("/vi-giay-to/to-chuc/c08/trang-thai/1")
    assert response["Content-Type"] == "application/statuslist+jwt"
    header = json.loads(sdjwt.b64decode(response.content.decode().split(".")[0]))
    assert header["typ"] == "statuslist+jwt"


def _status_value(client, idx: int) -> int:
    import zlib

    from popid.wallet.status import decode

    token = client.get("/vi-giay-to/to-chuc/c08/trang-thai/1").content.decode()
    lst = json.loads(sdjwt.b64decode(token.split(".")[1]))["status_list"]
    return decode(zlib.decompress(sdjwt.b64decode(lst["lst"])), idx, lst["bits"])


def test_status_list_follows_suspension_reinstatement_and_revocation(client, citizen, licence, actor_hoan_kiem):
    credential = _issue(citizen, licence)
    idx = credential.issued.status_idx
    assert _status_value(client, idx) == CredentialStatus.VALID
    documents.suspend_licence(actor=actor_hoan_kiem, number=licence.number, reason="Tạm giữ")
    assert _status_value(client, idx) == CredentialStatus.SUSPENDED
    documents.reinstate_licence(actor=actor_hoan_kiem, number=licence.number, reason="Hết thời hạn tước")
    assert _status_value(client, idx) == CredentialStatus.VALID
    documents.revoke_licence(actor=actor_hoan_kiem, number=licence.number, reason="Giấy tờ giả",
                             legal_ref="Thông tư 35/2024/TT-BCA")
    assert _status_value(client, idx) == CredentialStatus.INVALID


def test_death_revokes_every_credential_of_the_person(client, citizen, licence, admin_actor):
    credential = _issue(citizen, licence)
    id_card = wallet.add_to_wallet(account=citizen, config_id="can_cuoc", document_ref="", base=BASE)
    registry.record_death(actor=admin_actor, id_number=citizen.person.id_number, died_on=timezone.localdate(),
                          reason="Khai tử")
    session = verifier.create_session(base=BASE)
    result = verifier.verify_in_session(public_id=session.public_id, base=BASE,
                                        payload=present_licence(citizen, credential, session))
    assert (result.accepted, result.reason) == (False, "revoked")
    assert IssuedCredential.objects.get(pk=id_card.issued.pk).status == CredentialStatus.INVALID


def test_reissued_id_number_revokes_credentials_with_the_old_number(citizen, licence, admin_actor):
    credential = _issue(citizen, licence)
    person = citizen.person
    person.refresh_from_db()
    registry.reissue_id_number(actor=admin_actor, id_number=person.id_number, expected_version=person.version,
                               birth_date=date(1991, 5, 12), reason="Sai năm sinh khi đăng ký",
                               legal_ref="Thông tư 59/2021/TT-BCA Điều 6")
    session = verifier.create_session(base=BASE)
    result = verifier.verify_in_session(public_id=session.public_id, base=BASE,
                                        payload=present_licence(citizen, credential, session))
    assert result.reason == "revoked"


def test_suspended_licence_cannot_be_added(citizen, licence, actor_hoan_kiem):
    documents.suspend_licence(actor=actor_hoan_kiem, number=licence.number, reason="Tạm giữ")
    from popid.wallet.errors import DocumentUnavailable

    with pytest.raises(DocumentUnavailable):
        _issue(citizen, licence)
    assert not IssuedCredential.objects.exists()


def test_level1_account_and_level1_session_are_kept_out(client, citizen, licence):
    citizen.level = 1
    citizen.save()
    client.force_login(citizen.user)
    session = client.session
    session[SESSION_ACR] = "level-1"
    session.save()
    assert client.get("/vi-giay-to/").status_code == 403
    assert client.post("/vi-giay-to/them/", {"config_id": "giay_phep_lai_xe",
                                             "document_ref": licence.number}).status_code == 403
    citizen.level = 2
    citizen.save()
    response = client.get("/vi-giay-to/")
    assert response.status_code == 302 and "xac-thuc-nang-cao" in response["Location"]
    assert not IssuedCredential.objects.exists()


def test_citizen_cannot_add_another_persons_licence(client, citizen, family, admin_actor):
    other = documents.issue_licence(actor=admin_actor, person=family["binh"], number="010999999999",
                                    classes=[{"class": "B", "issued_on": "2016-01-01", "valid_until": "2036-01-01"}],
                                    issued_on=date(2016, 1, 1), valid_until=date(2036, 1, 1), issued_by="CSGT")
    web = level2_client(client, citizen)
    web.post("/vi-giay-to/them/", {"config_id": "giay_phep_lai_xe", "document_ref": other.number})
    assert not IssuedCredential.objects.exists()


def test_verifier_api_session_and_verification(client, citizen, licence):
    credential = _issue(citizen, licence)
    created = client.post("/api/v1/wallet/verifier/sessions", {}, content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    session = VerifierSession.objects.get(public_id=data["session_id"])
    assert data["nonce"] == session.nonce and data["audience"] == session.audience
    payload = present_licence(citizen, credential, session)
    ok = client.post("/api/v1/wallet/verifier/verify", {"session_id": session.public_id, "payload": payload},
                     content_type="application/json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["disclosed"] == {"age_over_18": True, "full_name": "Nguyễn Văn An",
                                      "driving_classes": ["A1", "B"]}
    replay = client.post("/api/v1/wallet/verifier/verify", {"session_id": session.public_id, "payload": payload},
                         content_type="application/json")
    assert replay.status_code == 422
    assert replay.json()["code"] == "presentation_refused" and replay.json()["reason"] == "nonce_replayed"


def test_actor_helpers_are_used_for_officer_jurisdiction(client, citizen, licence, officer_hcm):
    client.force_login(officer_hcm)  # Sài Gòn officer: An lives in Hoàn Kiếm
    assert client.get(f"/giay-to/gplx/{licence.number}/").status_code == 404
    client.post(f"/giay-to/gplx/{licence.number}/tam-giu/", {"reason": "x", "version": 1})
    assert DrivingLicence.objects.get(pk=licence.pk).status == "active"
    assert Actor.for_user(officer_hcm).covers_commune(citizen.person.commune_code) is False


def device_sign(key, signing_input: str) -> str:
    """What WebCrypto's ECDSA sign returns: r||s (IEEE P1363), base64url."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(key.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return sdjwt.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def test_browser_held_key_signs_the_key_binding(client, citizen, licence):
    """The WebCrypto path without a browser: the "device" key is a joserfc key whose public JWK
    the page would send; the server never sees the private key."""
    from joserfc.jwk import ECKey

    from popid.wallet.errors import DocumentUnavailable

    device = ECKey.generate_key("P-256", private=True)
    public = {k: v for k, v in device.as_dict(private=False).items() if k in {"kty", "crv", "x", "y"}}
    held = wallet.add_to_wallet(account=citizen, config_id="giay_phep_lai_xe", document_ref=licence.number,
                                base=BASE, browser_jwk=public)
    assert held.holder_key_id is None and sdjwt.parse(held.sd_jwt).payload["cnf"]["jwk"]["x"] == public["x"]
    session = verifier.create_session(base=BASE)
    with pytest.raises(DocumentUnavailable):  # no server-side key can present it
        present_licence(citizen, held, session)
    prefix, signing_input = wallet.prepare_browser_presentation(
        account=citizen, pk=held.pk, claims=["age_over_18", "full_name"], nonce=session.nonce,
        audience=session.audience)
    signature = device_sign(device, signing_input)
    forged = device_sign(ECKey.generate_key("P-256", private=True), signing_input)
    with pytest.raises(DocumentUnavailable):
        wallet.finish_browser_presentation(account=citizen, pk=held.pk, prefix=prefix, signing_input=signing_input,
                                           signature=forged)
    payload = wallet.finish_browser_presentation(account=citizen, pk=held.pk, prefix=prefix,
                                                 signing_input=signing_input, signature=signature)
    result = verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE)
    assert result.accepted and result.disclosed == {"age_over_18": True, "full_name": "Nguyễn Văn An"}
    private = {**public, "d": device.as_dict(private=True)["d"]}
    with pytest.raises(DocumentUnavailable):  # a private key is never accepted as a holder key
        wallet.add_to_wallet(account=citizen, config_id="giay_phep_lai_xe", document_ref=licence.number,
                             base=BASE, browser_jwk=private)


@pytest.mark.parametrize("config_id, claims, issuer", [
    ("can_cuoc", ["age_over_18", "full_name", "permanent_address"], "c06"),
    ("dang_ky_xe", ["plate", "chassis_number", "owner_name"], "c08"),
    ("the_bhyt", ["insurance_number", "full_name", "valid_until"], "bhxh"),
])
def test_every_document_type_is_issued_and_verified(citizen, config_id, claims, issuer):
    from popid.documents.demo import seed_documents
    from popid.wallet.claims import available_documents

    seed_documents(demo_id_numbers=[citizen.person.id_number])
    ref = next(r for c, r, _label in available_documents(citizen.person) if c == config_id)
    held = wallet.add_to_wallet(account=citizen, config_id=config_id, document_ref=ref, base=BASE)
    payload = sdjwt.parse(held.sd_jwt).payload
    assert payload["iss"].endswith(f"/to-chuc/{issuer}")
    session = verifier.create_session(base=BASE)
    result = verifier.verify_in_session(
        public_id=session.public_id, base=BASE,
        payload=wallet.present(account=citizen, pk=held.pk, claims=claims, nonce=session.nonce,
                               audience=session.audience))
    assert result.accepted, result.reason
    assert set(result.disclosed) == set(claims) and result.config_id == config_id
    assert all(value not in ("", None) for value in result.disclosed.values())


def test_too_much_for_one_qr_code_is_refused_on_the_form(client, citizen):
    from popid.registry.models import IdentityCard

    IdentityCard.objects.create(person=citizen.person, card_number=citizen.person.id_number,
                                issued_on=date(2021, 7, 1), issued_by="Cục Cảnh sát QLHC về TTXH")
    held = wallet.add_to_wallet(account=citizen, config_id="can_cuoc", document_ref="", base=BASE)
    every_claim = list(wallet.credential_claims(held))
    session = verifier.create_session(base=BASE)
    web = level2_client(client, citizen)
    response = web.post(f"/vi-giay-to/giay-to/{held.pk}/", {"claims": every_claim, "session": session.public_id})
    assert len(present_licence(citizen, held, session, claims=every_claim)) > 2953  # every claim of the ID card
    assert response.status_code == 422 and "Quá nhiều thông tin cho một mã QR" in response.content.decode()
    few = web.post(f"/vi-giay-to/giay-to/{held.pk}/", {"claims": ["age_over_18"], "session": session.public_id})
    assert few.status_code == 200 and "presentation-qr" in few.content.decode()


def test_merged_duplicate_record_revokes_credentials_with_its_number(citizen, licence, admin_actor):
    """``person.merged``: the duplicate's ID number is cancelled, so credentials carrying it end."""
    credential = _issue(citizen, licence)
    an = citizen.person
    twin = registry.register_birth(
        actor=admin_actor, full_name="Nguyễn Văn An", birth_date=an.birth_date, sex="M", birth_place="Hà Nội",
        birth_registration_commune_code="00070", hometown="Nam Định", ethnicity_code="01",
        father_name="Nguyễn Văn Bình")
    an.refresh_from_db()
    twin.refresh_from_db()
    registry.merge_persons(actor=admin_actor, survivor_id_number=twin.id_number, duplicate_id_number=an.id_number,
                           survivor_version=twin.version, duplicate_version=an.version, reason="Hồ sơ trùng")
    session = verifier.create_session(base=BASE)
    result = verifier.verify_in_session(public_id=session.public_id, base=BASE,
                                        payload=present_licence(citizen, credential, session))
    assert result.reason == "revoked"
