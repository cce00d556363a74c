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
from tests.wallet.test_wallet_external import disclosure, external  # noqa: F401 - fixture
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


# --- every RFC 9901 shape, issued by the reference implementation on an issuer outside PopID -----
def _owf_issue(issuer, user_claims: dict, *, decoys: bool = True) -> str:
    holder_jwk = jwk_mod.JWK(**issuer.holder.as_dict(private=True))
    issuer_jwk = jwk_mod.JWK(**issuer.key.as_dict(private=True))
    claims = {**{k: v for k, v in issuer.base_claims().items() if k != "cnf"}, **user_claims}
    return sd_issuer.SDJWTIssuer(claims, issuer_jwk, holder_key=holder_jwk, sign_alg="ES256",
                                 add_decoy_claims=decoys,
                                 extra_header_parameters={"typ": "dc+sd-jwt", "kid": "ext-key-1"}).sd_jwt_issuance


def _owf_present(issuer, issuance: str, disclose, session) -> str:
    holder = sd_holder.SDJWTHolder(issuance)
    holder.create_presentation(disclose, nonce=session.nonce, aud=session.audience,
                               holder_key=jwk_mod.JWK(**issuer.holder.as_dict(private=True)), sign_alg="ES256")
    return holder.sd_jwt_presentation


def _owf_verify(issuer, presentation: str, session) -> dict:
    key = jwk_mod.JWK(**issuer.key.as_dict(private=False))
    return sd_verifier.SDJWTVerifier(presentation, lambda iss, header: key, expected_aud=session.audience,
                                     expected_nonce=session.nonce).get_verified_payload()


def _no_sd_left(value) -> bool:
    if isinstance(value, dict):
        return "_sd" not in value and "_sd_alg" not in value and "..." not in value and all(
            _no_sd_left(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_sd_left(v) for v in value)
    return True


SDObj = sd_common.SDObj
SHAPES = {
    "flat": ({SDObj("given_name"): "An", SDObj("family_name"): "Nguyễn", "locale": "vi"},
             {"given_name": True},
             {"given_name": "An", "locale": "vi"}),
    "nested_object": ({"address": {SDObj("street_address"): "12 Tràng Tiền", SDObj("locality"): "Hà Nội",
                                   "country": "VN"}},
                      {"address": {"locality": True}},
                      {"address": {"locality": "Hà Nội", "country": "VN"}}),
    "array_elements": ({"nationalities": [SDObj("VN"), SDObj("FR"), "DE"]},
                       {"nationalities": [True, False, None]},
                       {"nationalities": ["VN", "DE"]}),
    "recursive": ({SDObj("address"): {SDObj("street_address"): "12 Tràng Tiền", SDObj("locality"): "Hà Nội",
                                      "country": "VN"}},
                  {"address": {"street_address": True, "locality": True}},
                  {"address": {"street_address": "12 Tràng Tiền", "locality": "Hà Nội", "country": "VN"}}),
    "partially_disclosed_object": ({SDObj("address"): {SDObj("street_address"): "12 Tràng Tiền",
                                                       SDObj("locality"): "Hà Nội", "country": "VN"}},
                                   {"address": True},
                                   {"address": {"country": "VN"}}),
    "partially_disclosed_array": ({"degrees": [SDObj({SDObj("type"): "Cử nhân", "school": "ĐHQG"}),
                                               SDObj("Thạc sĩ"), SDObj("Tiến sĩ")]},
                                  {"degrees": [{}, False, True]},
                                  {"degrees": [{"school": "ĐHQG"}, "Tiến sĩ"]}),
    "nothing_disclosed": ({SDObj("given_name"): "An", "nationalities": [SDObj("VN")],
                           SDObj("address"): {SDObj("locality"): "Hà Nội"}},
                          {},
                          {"nationalities": []}),
    "array_decoys": ({"nationalities": ["VN", {"...": sdjwt.digest("decoy-element")}], SDObj("given_name"): "An"},
                     {"given_name": True},
                     {"nationalities": ["VN"], "given_name": "An"}),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_reference_issued_shape_verifies_in_popid_like_in_the_reference(external, shape):  # noqa: F811
    """Issued and presented with the OWF library, with decoys everywhere: PopID accepts, the key
    binding is checked, and PopID's processed claims equal the reference verifier's output, with no
    ``_sd``, ``_sd_alg`` or ``{"...": digest}`` left anywhere."""
    user_claims, disclose, expected = SHAPES[shape]
    session = verifier.create_session(base=BASE)
    # the library would add object decoys inside the literal {"...": decoy} and unmake it
    issuance = _owf_issue(external, user_claims, decoys=shape != "array_decoys")
    presentation = _owf_present(external, issuance, disclose, session)
    reference = _owf_verify(external, presentation, session)

    checked = sdjwt.verify(presentation, issuer_key=OnlineTrust(BASE).issuer_key, audience=session.audience)
    assert checked.claims == reference
    assert _no_sd_left(checked.claims)
    result = verifier.verify_in_session(public_id=session.public_id, payload=presentation, base=BASE)
    assert result.accepted, (result.reason, result.detail)
    assert result.disclosed == expected
    assert result.issuer == external.iss and result.issuer_name == external.origin.removeprefix("http://")
    assert "no_status_reference" in result.notes
    replay = verifier.verify_in_session(public_id=session.public_id, payload=presentation, base=BASE)
    assert replay.reason == "nonce_replayed"  # the key binding's nonce is this session's, once


def test_popid_presentation_of_every_id_card_claim_verifies_in_the_reference_with_equal_output(citizen):  # noqa: F811
    id_card = wallet.add_to_wallet(account=citizen, config_id="can_cuoc", document_ref="", base=BASE)
    chosen = ["full_name", "birth_date", "age_over_18", "permanent_address", "id_number"]
    session = verifier.create_session(base=BASE)
    payload = wallet.present(account=citizen, pk=id_card.pk, claims=chosen, nonce=session.nonce,
                             audience=session.audience)
    jwks = {k["kid"]: k for k in ISSUERS["c06"].jwks()["keys"]}
    reference = sd_verifier.SDJWTVerifier(payload, lambda iss, header: _jwcrypto_public(jwks[header["kid"]]),
                                          expected_aud=session.audience, expected_nonce=session.nonce)
    checked = sdjwt.verify(payload, issuer_key=OnlineTrust(BASE).issuer_key, audience=session.audience)
    assert checked.claims == reference.get_verified_payload()
    assert set(checked.disclosed) == set(chosen)


def _refusal(payload: str, session) -> str:
    result = verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE)
    assert not result.accepted
    return result.reason


def test_reference_presentation_with_a_child_but_not_its_parent_is_refused(external):  # noqa: F811
    """The reference verifier silently drops a disclosure nothing refers to; RFC 9901 §7.1 step 6
    requires refusing it, and PopID does."""
    user_claims, _disclose, _expected = SHAPES["recursive"]
    issuance = _owf_issue(external, user_claims)
    parts = issuance.split("~")
    child = next(d for d in parts[1:] if json.loads(sdjwt.b64decode(d))[1] == "locality")
    session = verifier.create_session(base=BASE)
    assert _refusal(external.present(parts[0], [child], nonce=session.nonce, aud=session.audience), session) == \
        "unreferenced_disclosure"


def test_malformed_shapes_are_refused_with_their_reason(external):  # noqa: F811
    given = disclosure("salt-1", "given_name", "An")
    element = disclosure("salt-2", "VN")
    parent = disclosure("salt-3", "address", {"_sd": [sdjwt.digest(given)]})
    cases = {
        "array element referenced from _sd": ({"_sd": [sdjwt.digest(element)]}, [element], "misplaced_disclosure"),
        "property referenced from an array": ({"nationalities": [{"...": sdjwt.digest(given)}]}, [given],
                                              "misplaced_disclosure"),
        "claim named _sd": ({"_sd": [sdjwt.digest(disclosure("s", "_sd", []))]}, [disclosure("s", "_sd", [])],
                            "forbidden_claim_name"),
        "claim named ...": ({"_sd": [sdjwt.digest(disclosure("s", "...", 1))]}, [disclosure("s", "...", 1)],
                            "forbidden_claim_name"),
        "vct selectively disclosed": ({"_sd": [sdjwt.digest(disclosure("s", "vct", "x"))], "vct": None},
                                      [disclosure("s", "vct", "x")], "forbidden_claim_name"),
        "name collision": ({"given_name": "Bình", "_sd": [sdjwt.digest(given)]}, [given], "claim_name_collision"),
        "digest twice in _sd": ({"_sd": [sdjwt.digest(given), sdjwt.digest(given)]}, [given], "duplicate_digest"),
        "digest in _sd and in an array": ({"_sd": [sdjwt.digest(element)], "a": [{"...": sdjwt.digest(element)}]},
                                          [], "duplicate_digest"),
        "digest twice via a disclosure": ({"_sd": [sdjwt.digest(parent), sdjwt.digest(given)]}, [parent],
                                          "duplicate_digest"),
        "disclosure given twice": ({"_sd": [sdjwt.digest(given)]}, [given, given], "duplicate_disclosure"),
        "disclosure from nowhere": ({"_sd": ["decoy"]}, [given], "unreferenced_disclosure"),
        "_sd not an array": ({"_sd": sdjwt.digest(given)}, [given], "malformed_sd"),
        "digest not a string": ({"nationalities": [{"...": 42}]}, [], "malformed_sd"),
        "_sd_alg nested": ({"address": {"_sd_alg": "sha-256", "_sd": []}}, [], "malformed_sd"),
        "unknown _sd_alg": ({"_sd_alg": "md5"}, [], "unsupported_sd_alg"),
        "four elements": ({"_sd": [sdjwt.digest(disclosure("s", "a", 1, 2))]}, [disclosure("s", "a", 1, 2)],
                          "malformed_disclosure"),
        "name not a string": ({"_sd": [sdjwt.digest(disclosure("s", 7, 1))]}, [disclosure("s", 7, 1)],
                              "malformed_disclosure"),
        "salt not a string": ({"_sd": [sdjwt.digest(disclosure(1, "a", 1))]}, [disclosure(1, "a", 1)],
                              "malformed_disclosure"),
        "nested deeper than 32": ({"deep": json.loads("[" * 40 + "]" * 40)}, [], "oversized"),
        "no vct": ({"vct": None}, [], "wrong_type"),
        "a PopID credential type": ({"vct": "urn:vn:popid:can-cuoc:1"}, [], "wrong_type"),
    }
    for name, (extra, disclosures, reason) in cases.items():
        claims = {k: v for k, v in {**external.base_claims(), **extra}.items() if v is not None}
        session = verifier.create_session(base=BASE)
        payload = external.present(external.sign(claims), disclosures, nonce=session.nonce, aud=session.audience)
        assert _refusal(payload, session) == reason, name


def test_sha512_digests_and_array_decoys_from_an_external_issuer_are_processed(external):  # noqa: F811
    given, element = disclosure("salt-1", "given_name", "An"), disclosure("salt-2", "VN")
    claims = external.base_claims(_sd_alg="sha-512", _sd=sorted([sdjwt.digest(given, "sha-512"), "decoy-1"]),
                                  nationalities=[{"...": sdjwt.digest(element, "sha-512")}, {"...": "decoy-2"}, "DE"])
    session = verifier.create_session(base=BASE)
    payload = external.present(external.sign(claims), [given, element], nonce=session.nonce, aud=session.audience,
                               sd_alg="sha-512")
    result = verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE)
    assert result.accepted, (result.reason, result.detail)
    assert result.disclosed == {"given_name": "An", "nationalities": ["VN", "DE"]}
    session = verifier.create_session(base=BASE)
    sha256_kb = external.present(external.sign(claims), [given], nonce=session.nonce, aud=session.audience)
    assert _refusal(sha256_kb, session) == "sd_hash_mismatch"  # sd_hash uses _sd_alg too


def _digests_in(value) -> list[str]:
    """The digests a (disclosed) value refers to, at any depth."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("..."), str):
            return [value["..."]]
        found = [d for d in value.get("_sd", []) if isinstance(d, str)]
        return found + [d for k, v in value.items() if k != "_sd" for d in _digests_in(v)]
    if isinstance(value, list):
        return [d for v in value for d in _digests_in(v)]
    return []


def test_random_shapes_verify_like_the_reference_and_orphans_are_refused():
    """Property: any tree of objects and arrays with selectively disclosable properties and
    elements at random places (decoys or not), issued by the OWF library, and any choice of
    disclosures closed under "its parent is disclosed too": PopID accepts with exactly the
    reference verifier's output. The same choice without a parent is refused as
    ``unreferenced_disclosure`` (where the reference silently drops the orphan)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from joserfc.jwk import ECKey

    from tests.wallet.test_wallet_external import ExternalIssuer

    issuer = ExternalIssuer.__new__(ExternalIssuer)  # keys and signing only: no server
    issuer.key = ECKey.generate_key("P-256", private=True, parameters={"kid": "ext-key-1"})
    issuer.holder = ECKey.generate_key("P-256", private=True)
    issuer.iss = "https://issuer.example/vc"
    public = ECKey.import_key(issuer.key.as_dict(private=False))
    names = st.sampled_from(["a", "b", "c", "given_name", "địa_chỉ", "x1"])
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=4))

    def marked(children):
        sd_list = st.lists(st.tuples(st.booleans(), children), max_size=3).map(
            lambda items: [SDObj(v) if sd else v for sd, v in items])
        sd_dict = st.dictionaries(names, st.tuples(st.booleans(), children), max_size=3).map(
            lambda items: {(SDObj(k) if sd else k): v for k, (sd, v) in items.items()})
        return st.one_of(sd_list, sd_dict)

    trees = st.dictionaries(names, st.tuples(st.booleans(), st.recursive(scalars, marked, max_leaves=8)),
                            min_size=1, max_size=4).map(
        lambda items: {(SDObj(k) if sd else k): v for k, (sd, v) in items.items()})

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(tree=trees, decoys=st.booleans(), choice=st.randoms(use_true_random=False))
    def check(tree, decoys, choice):
        issuance = _owf_issue(issuer, tree, decoys=decoys)
        jwt, *disclosures = [part for part in issuance.split("~") if part]
        by_digest = {sdjwt.digest(d): d for d in disclosures}
        parent = {child: d for d in by_digest for child in _digests_in(json.loads(sdjwt.b64decode(by_digest[d]))[-1])
                  if child in by_digest}
        chosen = {d for d in by_digest if choice.random() < 0.5}
        closed = set(chosen)
        for d in chosen:
            while d in parent:
                d = parent[d]
                closed.add(d)
        ordered = [by_digest[d] for d in by_digest if d in closed]
        presentation = issuer.present(jwt, ordered, nonce="n", aud="a")
        reference = sd_verifier.SDJWTVerifier(presentation, lambda iss, header: jwk_mod.JWK(
            **issuer.key.as_dict(private=False)), expected_aud="a", expected_nonce="n").get_verified_payload()
        checked = sdjwt.verify(presentation, issuer_key=lambda iss, kid: public, audience="a")
        assert checked.claims == reference and _no_sd_left(checked.claims)
        missing_parent = [by_digest[d] for d in by_digest if d in closed and d in parent and parent[d] not in chosen]
        if missing_parent:
            without = [by_digest[d] for d in by_digest if d in chosen]
            with pytest.raises(sdjwt.Refused) as refused:
                sdjwt.verify(issuer.present(jwt, without, nonce="n", aud="a"), issuer_key=lambda iss, kid: public,
                             audience="a")
            assert refused.value.reason == "unreferenced_disclosure"

    check()
