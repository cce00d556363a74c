"""Compact presentations (issue #19 item 6): a wallet QR code a phone can scan in its 60 seconds.

The full presentation (``<issuer-jwt>~<disclosures>~<KB-JWT>``, 1,500–2,900 characters: QR version
30–40) is made exactly as before, bound to the verifier session's nonce and audience, and kept
server-side for its life under a random 128-bit reference. The QR code carries only
``<base>/vi-giay-to/p/<reference>`` (about 60 characters: version 4). The verifier resolves the
reference over the same session protocol — naming its session's audience, which must be the one
the presentation was made for — and then verifies the full presentation with every check of
``wallet.verify`` (issuer and holder signatures, ``sd_hash``, audience, nonce used once, status,
KB ``iat`` within 60 s). A reference therefore adds no way in: an unknown, foreign-audience or
expired reference is refused before anything is verified, and a replayed one meets the used nonce.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta

from django.utils import timezone

from popid.wallet.models import PresentationReference
from popid.wallet.sdjwt import Refused
from popid.wallet.verify import PRESENTATION_MAX_AGE

COMPACT_PATH = "/vi-giay-to/p/"
REF_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")


def share(*, payload: str, audience: str, base: str) -> str:
    """Keep ``payload`` for its life; the compact text (an address) for the QR code."""
    prune()  # one indexed DELETE: expired ones never pile up, even without the worker
    ref = secrets.token_urlsafe(16)  # 22 characters, 128 random bits
    PresentationReference.objects.create(ref=ref, payload=payload, audience=audience[:300],
                                         expires_at=timezone.now() + timedelta(seconds=PRESENTATION_MAX_AGE))
    return f"{base}{COMPACT_PATH}{ref}"


def reference_of(text: str, base: str) -> str | None:
    """The reference in a compact presentation of this installation, or None (a full one, or
    anything else, goes to the normal verification and is refused there if malformed)."""
    text = (text or "").strip()
    prefix = f"{base}{COMPACT_PATH}"
    if not text.startswith(prefix):
        return None
    ref = text[len(prefix):].split("?", 1)[0]
    return ref if REF_RE.match(ref) else None


def is_compact(text: str) -> bool:
    """Looks like a compact presentation of any installation (``popid verify`` fetches those)."""
    text = (text or "").strip()
    if not text.startswith(("https://", "http://")) or COMPACT_PATH not in text:
        return False
    return bool(REF_RE.match(text.rsplit(COMPACT_PATH, 1)[1].split("?", 1)[0]))


def resolve(ref: str, *, audience: str) -> str:
    """The full presentation behind ``ref`` for the verifier with this audience. Unknown and
    another verifier's references get the same answer (``reference_unknown``)."""
    row = PresentationReference.objects.filter(ref=ref).first() if REF_RE.match(ref or "") else None
    if row is None or not hmac.compare_digest(row.audience.encode(), (audience or "").encode()):
        raise Refused("reference_unknown", "no compact presentation with this reference for this verifier")
    if row.expires_at <= timezone.now():
        raise Refused("reference_expired", "the compact presentation's 60 seconds are over")
    return row.payload


def prune(*, now: object = None) -> int:
    """Delete expired references (``popid wallet prune``)."""
    deleted, _ = PresentationReference.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


def fetch(url: str, *, audience: str, timeout: float = 5.0) -> str:
    """``popid verify`` given a compact presentation: fetch the full one over HTTP (the only
    network use of an offline verification, and only for this explicit input), naming the
    verifier's audience. Raises ``Refused`` (``reference_unknown``/``reference_expired``/
    ``issuer_metadata_unavailable``-like ``reference_unavailable``)."""
    import urllib.error
    import urllib.request
    from urllib.parse import urlencode

    if not is_compact(url):
        raise Refused("malformed", "not a compact presentation address")
    if not audience:
        raise Refused("reference_unknown", "a compact presentation needs the verifier's audience (--audience)")

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    target = url.strip().split("?", 1)[0] + "?" + urlencode({"aud": audience})
    try:
        with opener.open(target, timeout=timeout) as response:
            body: bytes = response.read(16 * 1024 + 1)
    except urllib.error.HTTPError as exc:
        raise Refused("reference_expired" if exc.code == 410 else "reference_unknown", f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Refused("reference_unavailable", str(exc)[:200]) from exc
    if len(body) > 16 * 1024:
        raise Refused("oversized", "the fetched presentation is too large")
    return body.decode("ascii", errors="replace").strip()
