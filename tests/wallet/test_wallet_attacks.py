"""Bad input and attacks on presentations, each refused with its precise reason (issue #6)."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from popid.core.access import Actor
from popid.documents import services as documents
from popid.wallet import sdjwt, verifier
from popid.wallet import services as wallet
from popid.wallet.issuers import ISSUERS
from popid.wallet.models import VerifierSession
from tests.wallet.test_wallet_flow import BASE, citizen, licence, present_licence  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(citizen, licence):  # noqa: F811
    return wallet.add_to_wallet(account=citizen, config_id="giay_phep_lai_xe", document_ref=licence.number,
                                base=BASE)


def check(payload: str, session: VerifierSession | None = None) -> str:
    session = session or VerifierSession.objects.order_by("-id").first()
    result = verifier.verify_in_session(public_id=session.public_id, payload=payload, base=BASE)
    return "accepted" if result.accepted else result.reason


def session() -> VerifierSession:
    return verifier.create_session(base=BASE)


def holder(citizen):  # noqa: F811
    from popid.wallet.holder import holder_key

    return holder_key(citizen)[1]


def resign(citizen, parts: list[str], s: VerifierSession) -> str:  # noqa: F811
    """What a malicious holder can do: rebuild the presentation and sign a fresh KB-JWT."""
    prefix = "~".join([*parts, ""])
    kb = {"iat": int(time.time()), "aud": s.audience, "nonce": s.nonce, "sd_hash": sdjwt.digest(prefix)}
    return prefix + jws.serialize_compact({"alg": "ES256", "typ": "kb+jwt"}, json.dumps(kb).encode(),
                                          holder(citizen), algorithms=["ES256"])


def test_valid_presentation_is_accepted(citizen, held):  # noqa: F811
    s = session()
    assert check(present_licence(citizen, held, s), s) == "accepted"


def _with_changed_disclosure(payload: str) -> tuple[list[str], str]:
    parts = payload.split("~")
    salt, name, _value = json.loads(sdjwt.b64decode(parts[1]))
    parts[1] = sdjwt.b64encode(json.dumps([salt, name, "Nguyễn Văn Giả" if name == "full_name" else False]).encode())
    return parts, "~".join(parts)


def test_changed_disclosure_is_refused(citizen, held):  # noqa: F811
    s = session()
    parts, changed = _with_changed_disclosure(present_licence(citizen, held, s))
    assert check(changed, s) == "sd_hash_mismatch"  # changed after the holder signed
    s2 = session()
    parts, _ = _with_changed_disclosure(present_licence(citizen, held, s2))
    assert check(resign(citizen, parts[:-1], s2), s2) == "unreferenced_disclosure"  # the holder changed it


def test_disclosure_from_another_credential_is_refused(citizen, held):  # noqa: F811
    id_card = wallet.add_to_wallet(account=citizen, config_id="can_cuoc", document_ref="", base=BASE)
    foreign = sdjwt.parse(id_card.sd_jwt).disclosed()["birth_date"][0]
    s = session()
    parts = present_licence(citizen, held, s).split("~")
    assert check(resign(citizen, [*parts[:-1], foreign], s), s) == "unreferenced_disclosure"


def test_removed_or_reordered_signature_is_refused(citizen, held):  # noqa: F811
    other = wallet.add_to_wallet(account=citizen, config_id="can_cuoc", document_ref="", base=BASE)
    s = session()
    payload = present_licence(citizen, held, s)
    jwt, rest = payload.split("~", 1)
    head, body, sig = jwt.split(".")
    assert check(f"{head}.{body}.~{rest}", s) == "bad_signature"
    other_sig = sdjwt.parse(other.sd_jwt).jwt.split(".")[2]
    assert check(f"{head}.{body}.{other_sig}~{rest}", s) == "bad_signature"
    assert check(f"{body}.{head}.{sig}~{rest}", s) == "alg_none"  # parts swapped: no alg in the "header"
    without_kb = payload[: payload.rindex("~") + 1]
    assert check(without_kb, s) == "missing_key_binding"
    kb_head, kb_body, _kb_sig = payload.rsplit("~", 1)[1].split(".")
    assert check(f"{payload.rsplit('~', 1)[0]}~{kb_head}.{kb_body}.", s) == "bad_key_binding_signature"


def test_replayed_nonce_and_old_presentation_are_refused(citizen, held):  # noqa: F811
    s = session()
    payload = present_licence(citizen, held, s)
    assert check(payload, s) == "accepted"
    assert check(payload, s) == "nonce_replayed"
    s2 = session()
    old = wallet.present(account=citizen, pk=held.pk, claims=["age_over_18"], nonce=s2.nonce,
                         audience=s2.audience)
    stale = sdjwt.present(held.sd_jwt, claims=["age_over_18"], holder_key=holder(citizen), nonce=s2.nonce,
                          aud=s2.audience, iat=int(time.time()) - 61)
    assert check(stale, s2) == "presentation_expired"
    s3 = session()
    assert check(old, s3) == "wrong_audience"  # made for another verifier session
    wrong_nonce = sdjwt.present(held.sd_jwt, claims=["age_over_18"], holder_key=holder(citizen), nonce="x" * 32,
                                aud=s3.audience)
    assert check(wrong_nonce, s3) == "wrong_nonce"


def test_revoked_and_suspended_credentials_are_refused(citizen, held, licence, officer_hoan_kiem):  # noqa: F811
    actor = Actor.for_user(officer_hoan_kiem)
    documents.suspend_licence(actor=actor, number=licence.number, reason="Tạm giữ")
    s = session()
    assert check(present_licence(citizen, held, s), s) == "suspended"
    documents.revoke_licence(actor=actor, number=licence.number, reason="Giả mạo", legal_ref="Thông tư 35/2024")
    s = session()
    assert check(present_licence(citizen, held, s), s) == "revoked"


def _forge(claims: dict, key: ECKey, header: dict) -> str:
    return jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=["ES256"])


def test_unknown_issuer_key_is_refused(citizen, held):  # noqa: F811
    s = session()
    payload = present_licence(citizen, held, s)
    parsed = sdjwt.parse(payload)
    rogue = ECKey.generate_key("P-256", private=True)
    forged = _forge(parsed.payload, rogue, {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "rogue-key"})
    parts = payload.split("~")
    assert check(resign(citizen, [forged, *parts[1:-1]], s), s) == "unknown_issuer_key"
    s = session()
    same_kid = _forge(parsed.payload, rogue, parsed.header)  # right kid, wrong key
    assert check(resign(citizen, [same_kid, *parts[1:-1]], s), s) == "bad_signature"
    s = session()
    elsewhere = _forge({**parsed.payload, "iss": "https://evil.example/vi-giay-to/to-chuc/c08"},
                       ISSUERS["c08"].signing_key().key, parsed.header)
    assert check(resign(citizen, [elsewhere, *parts[1:-1]], s), s) == "untrusted_issuer"


def test_alg_none_is_refused(citizen, held):  # noqa: F811
    s = session()
    payload = present_licence(citizen, held, s)
    parsed = sdjwt.parse(payload)
    head = sdjwt.b64encode(json.dumps({**parsed.header, "alg": "none"}).encode())
    unsigned = f"{head}.{parsed.jwt.split('.')[1]}."
    parts = payload.split("~")
    assert check(resign(citizen, [unsigned, *parts[1:-1]], s), s) == "alg_none"
    s = session()
    payload = present_licence(citizen, held, s)
    prefix = payload.rsplit("~", 1)[0] + "~"
    kb = {"iat": int(time.time()), "aud": s.audience, "nonce": s.nonce, "sd_hash": sdjwt.digest(prefix)}
    none_kb = (sdjwt.b64encode(b'{"alg":"none","typ":"kb+jwt"}') + "." + sdjwt.b64encode(json.dumps(kb).encode())
               + ".")
    assert check(prefix + none_kb, s) == "alg_none"


@pytest.mark.parametrize("payload, reason", [
    ("x" * 9000, "oversized"),
    ("~".join(["a.b.c"] * 80) + "~", "oversized"),
    ("hello", "malformed"),
    ("", "malformed"),
    ("eyJ.eyJ~~", "malformed"),
    ("a.b.c~", "malformed"),
    ("Nguyễn~Văn~An", "malformed"),
    ("034090001234|123456789|Nguyễn Văn An|12051990|Nam|Hà Nội|01012021", "malformed"),
])
def test_oversized_or_malformed_payload_is_refused(payload, reason):
    s = session()
    assert check(payload, s) == reason


def test_malformed_disclosure_is_refused(citizen, held):  # noqa: F811
    s = session()
    parts = present_licence(citizen, held, s).split("~")
    assert check(resign(citizen, [parts[0], "%%%notbase64", *parts[1:-1]], s), s) == "malformed_disclosure"
    s = session()
    parts = present_licence(citizen, held, s).split("~")
    assert check(resign(citizen, [parts[0], parts[1], parts[1], *parts[2:-1]], s), s) == "duplicate_disclosure"


def test_verifier_page_shows_precise_reason_for_garbage(client):
    s = session()
    response = client.post(f"/giay-to/xac-minh/{s.public_id}/", {"payload": "không phải mã giấy tờ"})
    assert response.status_code == 422
    assert 'data-reason="malformed"' in response.content.decode()
    response = client.post(f"/giay-to/xac-minh/{s.public_id}/", {"payload": "x" * 20000})
    assert 'data-reason="oversized"' in response.content.decode()


def test_one_address_cannot_flood_verifier_sessions(client, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(verifier, "SESSIONS_PER_IP_PER_HOUR", 3)
    codes = [client.post("/api/v1/wallet/verifier/sessions", {}, content_type="application/json").status_code
             for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    assert VerifierSession.objects.count() == 3
    assert client.post("/giay-to/xac-minh/").status_code == 429
    cache.clear()


def test_sync_command_applies_registry_events(citizen, held, admin_actor):  # noqa: F811
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from popid.registry import services as registry
    from popid.wallet.models import CredentialStatus, IssuedCredential

    registry.record_death(actor=admin_actor, id_number=citizen.person.id_number, died_on=timezone.localdate(),
                          reason="Khai tử")
    out = StringIO()
    call_command("wallet", "sync", stdout=out)
    assert out.getvalue().startswith("1 ")
    assert IssuedCredential.objects.get(pk=held.issued_id).status == CredentialStatus.INVALID


def test_any_mutation_of_a_presentation_is_refused_never_crashes(citizen, held):  # noqa: F811
    """Property: inserting or cutting characters anywhere never raises, and never makes the verifier
    accept anything but exactly the original claims (a mutation that survives can only be
    signature-encoding malleability, which changes nothing disclosed)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from popid.wallet.verify import OnlineTrust, verify_presentation

    s = session()
    payload = present_licence(citizen, held, s)
    trust = OnlineTrust(BASE)
    original = verify_presentation(payload, trust=trust, audience=s.audience, nonce_check=lambda n: None)
    assert original.accepted

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(position=st.integers(0, len(payload) - 1), text=st.text(max_size=4),
           cut=st.integers(0, 3))
    def mutate(position, text, cut):
        mutated = payload[:position] + text + payload[position + cut:]
        result = verify_presentation(mutated, trust=trust, audience=s.audience, nonce_check=lambda n: None)
        if result.accepted:
            assert result.disclosed == original.disclosed and result.issuer == original.issuer
        else:
            assert result.reason and result.reason in REASON_CODES

    mutate()


REASON_CODES = {"oversized", "malformed", "alg_none", "unsupported_alg", "wrong_type", "untrusted_issuer",
                "issuer_metadata_unavailable", "issuer_metadata_invalid", "unknown_issuer_key",
                "bad_signature", "missing_key_binding", "bad_holder_key", "bad_key_binding_signature",
                "sd_hash_mismatch", "wrong_audience", "unsupported_sd_alg", "malformed_sd", "malformed_disclosure",
                "misplaced_disclosure", "forbidden_claim_name", "claim_name_collision", "duplicate_disclosure",
                "duplicate_digest", "unreferenced_disclosure", "credential_expired", "credential_not_yet_valid",
                "status_unavailable", "status_unknown", "revoked", "suspended", "wrong_nonce", "nonce_replayed",
                "verifier_session_expired", "presentation_expired", "presentation_from_future",
                # compact presentations (issue #19 item 6, tests/wallet/test_wallet_compact.py)
                "reference_unknown", "reference_expired", "reference_unavailable"}


def test_every_reason_code_has_a_vietnamese_text():
    from popid.wallet.reasons import REASONS

    assert set(REASONS) == REASON_CODES
