"""OpenID4VCI pre-authorised flow driven by an external-wallet client written here (its own key,
its own proof JWT), offline verification (`popid verify` and `verify_offline`) from a cached JWKS
and status list, and the chip-card QR."""

from __future__ import annotations

import json
import re
import time
from io import StringIO
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command
from joserfc import jws
from joserfc.jwk import ECKey

from popid.core import messaging
from popid.core.models import AccessRecord
from popid.documents import services as documents
from popid.wallet import sdjwt, verifier
from popid.wallet import services as wallet
from popid.wallet.chipqr import parse_chip_qr
from popid.wallet.verify import build_cache, verify_offline
from tests.wallet.test_wallet_flow import BASE, PHONE, citizen, level2_client, licence, present_licence  # noqa: F401

pytestmark = pytest.mark.django_db
ISSUER = f"{BASE}/vi-giay-to"


class ExternalWallet:
    """A minimal OpenID4VCI wallet: its own P-256 key, speaks only HTTP to the issuer."""

    def __init__(self, http) -> None:
        self.http = http
        self.key = ECKey.generate_key("P-256", private=True)

    def proof(self, nonce: str, *, aud: str = ISSUER, typ: str = "openid4vci-proof+jwt", iat: int | None = None) -> str:
        header = {"alg": "ES256", "typ": typ, "jwk": self.key.as_dict(private=False)}
        payload = {"aud": aud, "iat": iat or int(time.time()), "nonce": nonce}
        return jws.serialize_compact(header, json.dumps(payload).encode(), self.key, algorithms=["ES256"])

    def redeem(self, offer_uri: str, tx_code: str) -> dict:
        offer = json.loads(parse_qs(urlparse(offer_uri).query)["credential_offer"][0])
        metadata = self.http.get("/.well-known/openid-credential-issuer/vi-giay-to").json()
        assert metadata["credential_issuer"] == offer["credential_issuer"] == ISSUER
        auth_meta = self.http.get("/.well-known/oauth-authorization-server/vi-giay-to").json()
        grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        token = self.http.post(urlparse(auth_meta["token_endpoint"]).path, {
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": grant["pre-authorized_code"], "tx_code": tx_code})
        return {"offer": offer, "metadata": metadata, "token": token}

    def credential(self, metadata: dict, access_token: str, config_id: str, proof: str):
        return self.http.post(urlparse(metadata["credential_endpoint"]).path,
                              json.dumps({"credential_configuration_id": config_id, "proofs": {"jwt": [proof]}}),
                              content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def _offer(client, citizen, licence, capture):  # noqa: F811
    web = level2_client(client, citizen)
    with capture(execute=True):  # the SMS leaves after commit
        page = web.post("/vi-giay-to/vi-ngoai/", {"config_id": "giay_phep_lai_xe", "document_ref": licence.number})
    assert page.status_code == 200
    uri = re.search(r'<textarea id="offer-uri"[^>]*>([^<]+)</textarea>', page.content.decode()).group(1)
    tx_code = re.search(r"\b(\d{6})\b", messaging.read_outbox(to=PHONE)[-1]["text"]).group(1)
    client.logout()  # the external wallet has no browser session
    return uri.replace("&amp;", "&").replace("&quot;", '"').replace("&#x27;", "'"), tx_code


def test_external_wallet_obtains_a_credential_with_the_pre_authorised_code(
        client, citizen, licence, django_capture_on_commit_callbacks):  # noqa: F811
    uri, tx_code = _offer(client, citizen, licence, django_capture_on_commit_callbacks)
    ext = ExternalWallet(client)
    wrong = ext.redeem(uri, "000000" if tx_code != "000000" else "111111")["token"]
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    got = ext.redeem(uri, tx_code)
    assert got["token"].status_code == 200, got["token"].content
    access = got["token"].json()["access_token"]
    nonce = client.post("/vi-giay-to/oid4vci/nonce").json()["c_nonce"]
    bad_aud = ext.credential(got["metadata"], access, "giay_phep_lai_xe", ext.proof(nonce, aud="https://other"))
    assert bad_aud.status_code == 400 and bad_aud.json()["error"] == "invalid_proof"
    unknown_nonce = ext.credential(got["metadata"], access, "giay_phep_lai_xe", ext.proof("made-up"))
    assert unknown_nonce.json()["error"] == "invalid_nonce"
    not_offered = ext.credential(got["metadata"], access, "the_bhyt", ext.proof(nonce))
    assert not_offered.json()["error"] == "unknown_credential_configuration"
    issued = ext.credential(got["metadata"], access, "giay_phep_lai_xe", ext.proof(nonce))
    assert issued.status_code == 200, issued.content
    credential = issued.json()["credentials"][0]["credential"]
    parsed = sdjwt.parse(credential)
    assert parsed.payload["cnf"]["jwk"]["x"] == ext.key.as_dict()["x"]  # bound to the wallet's own key
    assert AccessRecord.objects.filter(channel="oid4vci", person_id_number=citizen.person.id_number).exists()
    again = ext.credential(got["metadata"], access, "giay_phep_lai_xe", ext.proof(nonce))
    assert again.status_code == 401  # one credential per token, nonce used once
    replay = ext.redeem(uri, tx_code)["token"]
    assert replay.json()["error"] == "invalid_grant"  # the pre-authorised code is single use

    session = verifier.create_session(base=BASE)
    payload = sdjwt.present(credential, claims=["age_over_18", "licence_number"], holder_key=ext.key,
                            nonce=session.nonce, aud=session.audience)
    result = verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE)
    assert result.accepted and result.disclosed == {"age_over_18": True, "licence_number": licence.number}


def test_credential_endpoint_needs_a_valid_access_token(client):
    response = client.post("/vi-giay-to/oid4vci/credential", "{}", content_type="application/json",
                           HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert client.post("/vi-giay-to/oid4vci/token", {"grant_type": "authorization_code"}).json()["error"] == \
        "unsupported_grant_type"


def test_offline_verification_with_cache_and_cli(citizen, licence, tmp_path, actor_hoan_kiem):  # noqa: F811
    held = wallet.add_to_wallet(account=citizen, config_id="giay_phep_lai_xe", document_ref=licence.number, base=BASE)
    cache = tmp_path / "cache.json"
    out = StringIO()
    call_command("verify", "--refresh-cache", "--cache", str(cache), "--base", BASE, stderr=out)
    data = json.loads(cache.read_text())
    assert set(data["issuers"]) == {f"{BASE}/vi-giay-to/to-chuc/{s}" for s in ("c06", "c08", "bhxh", "a08")}
    assert all("d" not in k for i in data["issuers"].values() for k in i["jwks"]["keys"])
    session = verifier.create_session(base=BASE)
    payload = present_licence(citizen, held, session)
    result = verify_offline(payload, cache_path=cache, audience=session.audience, nonce=session.nonce)
    assert result.accepted and result.cache_age_seconds is not None and result.cache_age_seconds < 60
    assert verify_offline(payload, cache_path=cache, nonce="other").reason == "wrong_nonce"

    file = tmp_path / "qr.txt"
    file.write_text(payload)
    out = StringIO()
    call_command("verify", str(file), "--cache", str(cache), f"--nonce={session.nonce}", stdout=out)
    assert "HỢP LỆ" in out.getvalue() and "giây trước" in out.getvalue() and "Nguyễn Văn An" in out.getvalue()

    documents.suspend_licence(actor=actor_hoan_kiem, number=licence.number, reason="Tạm giữ")
    stale = verify_offline(payload, cache_path=cache)
    assert stale.accepted  # the old cache does not know yet: that is why its age is reported
    call_command("verify", "--refresh-cache", "--cache", str(cache), "--base", BASE, stderr=StringIO())
    assert verify_offline(payload, cache_path=cache).reason == "suspended"
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify", payload, "--cache", str(cache), stdout=out)
    assert exit_info.value.code == 1 and "suspended" in out.getvalue()

    forged = json.loads(cache.read_text())
    uri = f"{BASE}/vi-giay-to/to-chuc/c08/trang-thai/1"
    token = forged["status_lists"][uri]
    head, body, sig = token.split(".")
    claims = json.loads(sdjwt.b64decode(body))
    claims["status_list"]["lst"] = sdjwt.b64encode(__import__("zlib").compress(bytes(1 << 15)))
    forged["status_lists"][uri] = f"{head}.{sdjwt.b64encode(json.dumps(claims).encode())}.{sig}"
    cache.write_text(json.dumps(forged))
    assert verify_offline(payload, cache_path=cache).reason == "status_unavailable"  # tampered cache


def test_offline_cache_fetched_over_http_matches_local(client, citizen, licence):  # noqa: F811
    from popid.wallet.verify import fetch_cache

    fetched = fetch_cache(BASE, client=_HttpAdapter(client))
    local = build_cache(BASE)
    assert fetched["issuers"] == local["issuers"]
    assert set(fetched["status_lists"]) == set(local["status_lists"])


class _HttpAdapter:
    """httpx-like get() over the Django test client (same interface the verifier uses)."""

    def __init__(self, client) -> None:
        self.client = client

    def get(self, url: str, headers: dict | None = None):
        response = self.client.get(urlparse(url).path)
        response.text = response.content.decode()
        response.raise_for_status = lambda: None if response.status_code == 200 else 1 / 0
        return response


CARD = "001090012345|123456789|Nguyễn Văn An|12051990|Nam|12 Hàng Bạc, Phường Hoàn Kiếm, Hà Nội|01072021"


def test_chip_card_qr_parses_by_position():
    card = parse_chip_qr(CARD + "|extra|fields")
    assert card.id_number == "001090012345" and card.birth_date.isoformat() == "1990-05-12" and card.sex == "M"
    assert parse_chip_qr(CARD.replace("|123456789|", "||")).old_id_number == ""
    from popid.core.errors import ValidationFailed

    for bad in ["", "1|2|3", CARD.replace("12051990", "31021990"), CARD.replace("Nam", "X"), "x" * 700,
                CARD.replace("001090012345", "00109001234")]:
        with pytest.raises(ValidationFailed):
            parse_chip_qr(bad)


def test_chip_card_checked_against_registry_for_officers_only(client, family, officer_hoan_kiem, officer_hcm):
    an = family["an"]
    qr = f"{an.id_number}||Nguyễn Văn An|12051990|Nam|12 Hàng Bạc|01072021"
    anonymous = client.post("/giay-to/xac-minh-the-can-cuoc/", {"qr": qr})
    assert anonymous.status_code == 200 and "chip-check" not in anonymous.content.decode()
    before = AccessRecord.objects.count()
    client.force_login(officer_hoan_kiem)
    ok = client.post("/giay-to/xac-minh-the-can-cuoc/", {"qr": qr}).content.decode()
    assert 'data-matches="true"' in ok
    record = AccessRecord.objects.latest("id")
    assert AccessRecord.objects.count() == before + 1 and record.person_id_number == an.id_number
    assert record.channel == "verifier" and "QR" in record.purpose
    wrong = client.post("/giay-to/xac-minh-the-can-cuoc/", {"qr": qr.replace("12051990", "13051990")})
    assert 'data-matches="false"' in wrong.content.decode() and "birth_date" in wrong.content.decode()
    client.force_login(officer_hcm)
    outside = client.post("/giay-to/xac-minh-the-can-cuoc/", {"qr": qr})
    assert outside.status_code == 404


# --- issue #19 item 11: a chip-card QR checked offline, and test cards made by a command ---------
def _verify_chip(text: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify", text, "--chip-card", stdout=out)
    except SystemExit as exit_info:
        return int(exit_info.code), out.getvalue()
    return 0, out.getvalue()


def test_test_card_qr_is_made_and_checked_offline(tmp_path):
    out = StringIO()
    call_command("verify", "--make-chip-card", "--name", "Trần Thị Bình", "--birth", "03/04/1992", "--sex", "F",
                 "--issued", "10/08/2021", "--svg", str(tmp_path / "card.svg"), stdout=out, stderr=StringIO())
    text = out.getvalue().strip()
    card = parse_chip_qr(text)
    assert card.full_name == "Trần Thị Bình" and card.sex == "F" and card.id_number.startswith("001192")
    assert (tmp_path / "card.svg").read_text().startswith("<?xml")
    code, output = _verify_chip(text)
    assert code == 0 and "NHẤT QUÁN" in output and "10/08/2021" in output and "03/04/2032" in output  # renew at 40
    assert "không có chữ ký số" in output  # it says what an offline check cannot prove


def test_offline_chip_check_finds_inconsistent_and_expired_cards():
    from datetime import date

    from popid.wallet.chipqr import check_offline, make_chip_qr

    good = make_chip_qr(full_name="Nguyễn Văn An", birth_date=date(1990, 5, 12), sex="M",
                        permanent_address="12 Hàng Bạc", issued_on=date(2021, 7, 1), id_number="001090012345")
    assert check_offline(parse_chip_qr(good), today=date(2026, 12, 7)).consistent
    wrong_sex = good.replace("|Nam|", "|Nữ|")
    problems = check_offline(parse_chip_qr(wrong_sex), today=date(2026, 12, 7)).problems
    assert [c for c, _t in problems] == ["sex_mismatch"]
    wrong_year = good.replace("12051990", "12051991")
    assert _verify_chip(wrong_year)[0] == 1 and "năm sinh" in _verify_chip(wrong_year)[1]
    expired = check_offline(parse_chip_qr(good), today=date(2030, 5, 13))  # 40 on 12/05/2030
    assert [c for c, _t in expired.problems] == ["card_expired"] and expired.valid_until == date(2030, 5, 12)
    late = make_chip_qr(full_name="Lê Thị Hoa", birth_date=date(1962, 3, 4), sex="F", permanent_address="Hà Nội",
                        issued_on=date(2021, 7, 1), id_number="001162012345")
    assert check_offline(parse_chip_qr(late), today=date(2040, 1, 1)).valid_until is None  # issued at 59: for life
    assert _verify_chip("not|a|card")[0] == 1
