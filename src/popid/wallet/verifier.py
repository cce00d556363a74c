"""The verifier's side: sessions carrying a fresh nonce (used once, 10 minutes to use it), and
online verification of a presentation against one session."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from popid.core.errors import DomainError
from popid.wallet import sdjwt
from popid.wallet.errors import VerifierSessionNotFound
from popid.wallet.models import VerifierSession
from popid.wallet.verify import OnlineTrust, Result, verify_presentation

SESSION_LIFETIME = timedelta(minutes=10)
VERIFIER_PATH = "/giay-to/xac-minh/"


SESSIONS_PER_IP_PER_HOUR = 600


class TooManySessions(DomainError):
    code = "too_many_verifier_sessions"
    status = 429
    title = _("Quá nhiều phiên xác minh từ địa chỉ này, hãy thử lại sau")


def throttle_sessions(*, client_ip: str) -> None:
    """Anyone may open sessions (banks, hotels…), but one address cannot fill the table."""
    key = f"popid:wallet:sessions:{client_ip}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        count = 1
    if count > SESSIONS_PER_IP_PER_HOUR:
        raise TooManySessions(retry_after=3600)


def create_session(*, base: str, label: str = "") -> VerifierSession:
    public_id = secrets.token_hex(5)
    return VerifierSession.objects.create(
        public_id=public_id, nonce=secrets.token_hex(24),
        audience=f"{base}{VERIFIER_PATH}{public_id}",
        label=label[:100], expires_at=timezone.now() + SESSION_LIFETIME)


def find_session(public_id: str) -> VerifierSession:
    session = VerifierSession.objects.filter(public_id=(public_id or "").strip().lower()[:16]).first()
    if session is None:
        raise VerifierSessionNotFound(field="session")
    return session


@transaction.atomic
def verify_in_session(*, public_id: str, payload: str, base: str) -> Result:
    """Verify ``payload`` for this session: its nonce and audience, once; the result is kept."""
    session = VerifierSession.objects.select_for_update().filter(
        public_id=(public_id or "").strip().lower()[:16]).first()
    if session is None:
        raise VerifierSessionNotFound(field="session")

    def check_nonce(nonce: str) -> None:
        if nonce != session.nonce:
            raise sdjwt.Refused("wrong_nonce", "the presentation was made for another verifier session")
        if session.used_at is not None:
            raise sdjwt.Refused("nonce_replayed", "this nonce was already used by a presentation")
        if session.expires_at < timezone.now():
            raise sdjwt.Refused("verifier_session_expired", "the verifier session expired")
        session.used_at = timezone.now()

    result = verify_presentation(payload, trust=OnlineTrust(base), audience=session.audience, nonce_check=check_nonce)
    if session.used_at is not None and not session.result:
        session.result = {"accepted": result.accepted, "reason": result.reason, "config_id": result.config_id,
                          "claims": sorted(result.disclosed)}
        session.save(update_fields=["used_at", "result"])
    return result


def verify_payload_in_session(*, public_id: str, payload: str, base: str) -> Result:
    """``verify_in_session`` for what a verifier scanned: a full presentation, or a compact one
    (issue #19 item 6) resolved first for this session's audience — unknown, another verifier's
    or expired references are refused without touching the session (its nonce stays usable)."""
    from popid.wallet import compact

    ref = compact.reference_of(payload, base)
    if ref is None:
        return verify_in_session(public_id=public_id, payload=payload, base=base)
    session = find_session(public_id)
    try:
        full = compact.resolve(ref, audience=session.audience)
    except sdjwt.Refused as exc:
        return Result(accepted=False, reason=exc.reason, detail=exc.detail)
    return verify_in_session(public_id=public_id, payload=full, base=base)
