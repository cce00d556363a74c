"""Login throttling that slows attackers without letting anyone lock a victim out.

Counters live in the cache (Redis in production, so all web workers share them):

- per (account, client IP): after ``FREE_FAILURES`` failures each further attempt must wait
  2^(n - FREE_FAILURES) seconds, capped at ``MAX_DELAY``; a success resets it. An attacker on
  another IP does not delay the owner's own attempts, so there is no hard lock to abuse.
- per client IP, across accounts: at most ``IP_FAILURES_PER_WINDOW`` failures per window, which
  stops password spraying from one address.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

from popid.core import net

FREE_FAILURES = 3
MAX_DELAY = 300
IP_FAILURES_PER_WINDOW = 50
IP_WINDOW = 3600


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or X-Forwarded-For only behind POPID_TRUSTED_PROXY (one helper: core.net)."""
    return net.client_ip(request)


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"popid:throttle:{kind}:{digest}"


def check(*, scope: str, account: str, ip: str) -> Verdict:
    """May this attempt go ahead now? Does not count the attempt."""
    now = time.time()
    state = cache.get(_key(scope, account.lower(), ip))
    if state and state["until"] > now:
        return Verdict(False, int(state["until"] - now) + 1)
    ip_failures = cache.get(_key(f"{scope}-ip", ip), 0)
    if ip_failures >= IP_FAILURES_PER_WINDOW:
        return Verdict(False, IP_WINDOW)
    return Verdict(True)


def record_failure(*, scope: str, account: str, ip: str) -> None:
    key = _key(scope, account.lower(), ip)
    state = cache.get(key) or {"failures": 0, "until": 0.0}
    state["failures"] += 1
    over = state["failures"] - FREE_FAILURES
    state["until"] = time.time() + (min(MAX_DELAY, 2 ** (over - 1)) if over > 0 else 0)
    cache.set(key, state, timeout=24 * 3600)
    ip_key = _key(f"{scope}-ip", ip)
    cache.add(ip_key, 0, timeout=IP_WINDOW)
    try:
        cache.incr(ip_key)
    except ValueError:
        cache.set(ip_key, 1, timeout=IP_WINDOW)


def record_success(*, scope: str, account: str, ip: str) -> None:
    cache.delete(_key(scope, account.lower(), ip))


# --- citizen login factors --------------------------------------------------------------------
# Each factor has its own counter per (account, IP), so guessing OTPs does not slow the owner's
# password and vice versa; the per-IP cap of each factor stops spraying across accounts.
FACTOR_PASSWORD = "citizen-password"
FACTOR_OTP = "citizen-otp"
FACTOR_PASSCODE = "citizen-passcode"
FACTOR_TOTP = "citizen-totp"
OTP_SEND = "citizen-otp-send"
FACTORS = (FACTOR_PASSWORD, FACTOR_OTP, FACTOR_PASSCODE, FACTOR_TOTP, OTP_SEND)


def check_factor(request: HttpRequest, *, factor: str, account: str) -> Verdict:
    """``check`` for a citizen factor, keyed on the request's client IP."""
    return check(scope=factor, account=account, ip=client_ip(request))


def fail_factor(request: HttpRequest, *, factor: str, account: str) -> None:
    record_failure(scope=factor, account=account, ip=client_ip(request))


def pass_factor(request: HttpRequest, *, factor: str, account: str) -> None:
    record_success(scope=factor, account=account, ip=client_ip(request))
