"""Interoperability with the OpenWallet Foundation ``sd-jwt`` reference implementation: PopID's
presentations verify there, and SD-JWTs issued and presented with it verify in PopID."""

from __future__ import annotations

import json
import time

import pytest

from popid.wallet import sdjwt, verifier
from popid.wallet import services as wallet
from popid.wallet.issuers import ISSUERS
from popid.wallet.verify import OnlineTrust, verify_presentation
from tests.wallet.test_wallet_flow import BASE, citizen, licence, present_licence  # noqa: F401 - fixtures

jwk_mod = pytest.importorskip("jwcrypto.jwk")
sd_verifier = pytest.importorskip("sd_jwt.verifier")
sd_issuer = pytest.importorskip("sd_jwt.issuer")
sd_holder = pytest.importorskip("sd_jwt.holder")
sd_common = pytest.importorskip("sd_jwt.common")

pytestmark = pytest.mark.django_db


def _jwcrypto_public(jwk: dict):
    return jwk_mod.JWK.from_json(json.dumps(jwk))


def test_popid_presentation_verifies_with_the_reference_implementation(citizen, licence):  # noqa: F811
    held = wallet.add_to_wallet(account=citizen, config_id="giay_phep_lai_xe", document_ref=licence.number, base=BASE)
    session = verifier.create_session(base=BASE)
    payload = present_licence(citizen, held, session)
    jwks = {k["kid"]: k for k in ISSUERS["c08"].jwks()["keys"]}

    def issuer_key(iss: str, header: dict):
        assert iss == f"{BASE}/vi-giay-to/to-chuc/c08"
        return _jwcrypto_public(jwks[header["kid"]])

    checked = sd_verifier.SDJWTVerifier(payload, issuer_key, expected_aud=session.audience,
                                        expected_nonce=session.nonce)
    claims = checked.get_verified_payload()
    assert claims["full_name"] == "Nguyễn Văn An" and claims["age_over_18"] is True
    assert claims["driving_classes"] == ["A1", "B"]
    assert "birth_date" not in claims and claims["vct"] == "urn:vn:popid:giay-phep-lai-xe:1"
    with pytest.raises(ValueError, match="nonce"):
        sd_verifier.SDJWTVerifier(payload, issuer_key, expected_aud=session.audience, expected_nonce="other")


def test_reference_implementation_sd_jwt_verifies_in_popid(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    signing = ISSUERS["c08"].signing_key()
    issuer_jwk = jwk_mod.JWK(**signing.key.as_dict(private=True))
    holder_jwk = jwk_mod.JWK.generate(kty="EC", crv="P-256")
    now = int(time.time())
    SDObj = sd_common.SDObj
    claims = {
        "iss": f"{BASE}/vi-giay-to/to-chuc/c08", "vct": "urn:vn:popid:giay-phep-lai-xe:1", "iat": now,
        "exp": now + 3600, "status": {"status_list": {"idx": 7, "uri": f"{BASE}/vi-giay-to/to-chuc/c08/trang-thai/1"}},
        SDObj("full_name"): "Trần Thị Bình", SDObj("age_over_18"): True, SDObj("driving_classes"): ["B"],
        SDObj("birth_date"): "1992-08-20",
    }
    issued = sd_issuer.SDJWTIssuer(claims, issuer_jwk, holder_key=holder_jwk, sign_alg="ES256", add_decoy_claims=True,
                                   extra_header_parameters={"typ": "dc+sd-jwt", "kid": signing.kid})
    session = verifier.create_session(base=BASE)
    presentation = sd_holder.SDJWTHolder(issued.sd_jwt_issuance)
    presentation.create_presentation({"full_name": True, "age_over_18": True, "driving_classes": True},
                                     nonce=session.nonce, aud=session.audience, holder_key=holder_jwk,
                                     sign_alg="ES256")
    result = verifier.verify_in_session(public_id=session.public_id, payload=presentation.sd_jwt_presentation,
                                        base=BASE)
    assert result.accepted, (result.reason, result.detail)
    assert result.disclosed == {"full_name": "Trần Thị Bình", "age_over_18": True, "driving_classes": ["B"]}

    tampered = presentation.sd_jwt_presentation.replace("~", "~" + sdjwt.make_disclosure("age_over_21", True) + "~", 1)
    assert verify_presentation(tampered, trust=OnlineTrust(BASE), audience=session.audience).reason == \
        "sd_hash_mismatch"
