"""Compact presentations (issue #19 item 6): the wallet's QR code carries a short address of the
key-bound presentation, which the verifier resolves for its own session and verifies with every
check of the full form. Forged, another verifier's, replayed and expired ones are refused."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
import qrcode
from django.core.management import call_command
from django.utils import timezone

from popid.wallet import compact, verifier
from popid.wallet import services as wallet
from popid.wallet.models import PresentationReference, VerifierSession
from tests.wallet.test_wallet_flow import BASE, citizen, level2_client, licence, present_licence  # noqa: F401

pytestmark = pytest.mark.django_db


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(text)
    code.make(fit=True)
    return code.version


@pytest.fixture
def held(citizen, licence):  # noqa: F811
    return wallet.add_to_wallet(account=citizen, config_id="giay_phep_lai_xe", document_ref=licence.number, base=BASE)


def shown_presentation(client, citizen, held, session):  # noqa: F811
    web = level2_client(client, citizen)
    page = web.post(f"/vi-giay-to/giay-to/{held.pk}/", {"claims": ["age_over_18", "full_name", "driving_classes"],
                                                         "session": session.public_id})
    assert page.status_code == 200
    body = page.content.decode()
    short = re.search(r'id="presentation-compact" type="text" readonly value="([^"]+)"', body).group(1)
    full = re.search(r'<textarea id="presentation-payload"[^>]*>([^<]+)</textarea>', body).group(1)
    assert 'id="presentation-qr" src="data:image/svg+xml;base64,' in body and 'data-compact="true"' in body
    assert 'id="presentation-qr-full"' in body  # the full code stays available for offline verifiers
    return short, full


def verify_page(client, session, payload):
    response = client.post(f"/giay-to/xac-minh/{session.public_id}/", {"payload": payload})
    text = response.content.decode()
    reason = re.search(r'data-reason="([a-z_]+)"', text)
    return response.status_code, ('data-accepted="true"' in text), (reason.group(1) if reason else "")


def test_compact_qr_is_small_and_the_verifier_accepts_it_with_the_same_claims(client, citizen, held):  # noqa: F811
    session = verifier.create_session(base=BASE)
    short, full = shown_presentation(client, citizen, held, session)
    assert short.startswith(f"{BASE}/vi-giay-to/p/") and len(short) < 80
    assert qr_version(short) <= 5 < 25 <= qr_version(full)  # phone-scannable vs dense
    client.logout()
    status, accepted, _reason = verify_page(client, session, short)
    assert status == 200 and accepted
    page = client.post(f"/giay-to/xac-minh/{session.public_id}/", {"payload": short})  # the same QR again
    assert 'data-reason="nonce_replayed"' in page.content.decode() and page.status_code == 422
    assert VerifierSession.objects.get(pk=session.pk).result["accepted"] is True


def test_forged_reference_is_refused_and_leaves_the_session_usable(client, citizen, held):  # noqa: F811
    session = verifier.create_session(base=BASE)
    forged = f"{BASE}/vi-giay-to/p/{'A' * 22}"
    assert verify_page(client, session, forged) == (422, False, "reference_unknown")
    assert verify_page(client, session, f"{BASE}/vi-giay-to/p/short")[2] == "malformed"  # not a reference
    assert verify_page(client, session, f"https://elsewhere.example/vi-giay-to/p/{'A' * 22}")[2] == "malformed"
    assert VerifierSession.objects.get(pk=session.pk).used_at is None  # the nonce was not spent
    payload = present_licence(citizen, held, session)
    short = compact.share(payload=payload, audience=session.audience, base=BASE)
    assert verify_page(client, session, short)[1]


def test_another_verifiers_reference_is_refused(client, citizen, held):  # noqa: F811
    mine, theirs = verifier.create_session(base=BASE), verifier.create_session(base=BASE)
    short = compact.share(payload=present_licence(citizen, held, theirs), audience=theirs.audience, base=BASE)
    assert verify_page(client, mine, short) == (422, False, "reference_unknown")  # same answer as unknown
    # a stored presentation made for another session under this session's audience is still refused
    wrong = compact.share(payload=present_licence(citizen, held, theirs), audience=mine.audience, base=BASE)
    assert verify_page(client, mine, wrong)[2] == "wrong_audience"


def test_expired_reference_is_refused_and_pruned(client, citizen, held):  # noqa: F811
    session = verifier.create_session(base=BASE)
    short = compact.share(payload=present_licence(citizen, held, session), audience=session.audience, base=BASE)
    PresentationReference.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert verify_page(client, session, short) == (422, False, "reference_expired")
    assert compact.prune() == 1 and not PresentationReference.objects.exists()
    assert verify_page(client, session, short)[2] == "reference_unknown"


def test_old_presentation_behind_a_live_reference_is_still_expired(client, citizen, held):  # noqa: F811
    """The reference's own life does not extend the presentation's: KB iat is checked as before."""
    session = verifier.create_session(base=BASE)
    from popid.wallet import sdjwt
    from popid.wallet.holder import holder_key

    old = sdjwt.present(held.sd_jwt, claims=["age_over_18"], holder_key=holder_key(citizen)[1], nonce=session.nonce,
                        aud=session.audience, iat=int(timezone.now().timestamp()) - 120)
    short = compact.share(payload=old, audience=session.audience, base=BASE)
    assert verify_page(client, session, short)[2] == "presentation_expired"


def test_api_resolves_compact_presentations(client, citizen, held):  # noqa: F811
    session = verifier.create_session(base=BASE)
    short = compact.share(payload=present_licence(citizen, held, session), audience=session.audience, base=BASE)
    ok = client.post("/api/v1/wallet/verifier/verify", {"session_id": session.public_id, "payload": short},
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["disclosed"]["full_name"] == "Nguyễn Văn An"
    again = client.post("/api/v1/wallet/verifier/verify", {"session_id": session.public_id, "payload": short},
                        content_type="application/json")
    assert again.status_code == 422 and again.json()["reason"] == "nonce_replayed"
    forged = client.post("/api/v1/wallet/verifier/verify",
                         {"session_id": session.public_id, "payload": f"{BASE}/vi-giay-to/p/{'B' * 22}"},
                         content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert forged.status_code == 422 and forged.json()["reason"] == "reference_unknown"
    assert "verifier session" in forged.json()["detail"]  # translated


def test_public_fetch_needs_the_presentations_audience(client, citizen, held):  # noqa: F811
    session = verifier.create_session(base=BASE)
    payload = present_licence(citizen, held, session)
    short = compact.share(payload=payload, audience=session.audience, base=BASE)
    path = short[len(BASE):]
    ok = client.get(path, {"aud": session.audience})
    assert ok.status_code == 200 and ok.content.decode() == payload and "no-store" in ok["Cache-Control"]
    assert client.get(path, {"aud": f"{BASE}/giay-to/xac-minh/other"}).status_code == 404
    assert client.get(path).status_code == 404
    PresentationReference.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(path, {"aud": session.audience}).status_code == 410


def test_popid_verify_fetches_a_compact_presentation(citizen, held, tmp_path):  # noqa: F811
    """``popid verify <compact address> --audience A --nonce N``: fetched over HTTP, verified offline."""
    session = verifier.create_session(base=BASE)
    payload = present_licence(citizen, held, session)
    short = compact.share(payload=payload, audience=session.audience, base=BASE)
    ref = short.rsplit("/", 1)[1]
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):  # stands for the holder's installation
        def do_GET(self) -> None:
            seen.append(self.path)
            ok = self.path.startswith(f"/vi-giay-to/p/{ref}?aud=")
            self.send_response(200 if ok else 404)
            self.end_headers()
            self.wfile.write(payload.encode() if ok else b"reference_unknown")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"http://127.0.0.1:{server.server_port}/vi-giay-to/p/{ref}"
        cache = tmp_path / "cache.json"
        call_command("verify", "--refresh-cache", "--cache", str(cache), "--base", BASE, stderr=StringIO())
        out = StringIO()
        call_command("verify", address, "--cache", str(cache), f"--nonce={session.nonce}",
                     f"--audience={session.audience}", stdout=out)
        assert "HỢP LỆ" in out.getvalue() and "Nguyễn Văn An" in out.getvalue()
        assert "aud=" in seen[0]
        out = StringIO()
        with pytest.raises(SystemExit) as exit_info:
            call_command("verify", address.replace(ref, "C" * 22), "--cache", str(cache),
                         f"--audience={session.audience}", stdout=out)
        assert exit_info.value.code == 1 and "reference_unknown" in out.getvalue()
    finally:
        server.shutdown()
