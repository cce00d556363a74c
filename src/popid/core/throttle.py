"""Login throttling that slows attackers without letting anyone lock a victim out.

Where the counters live (shared by every web worker, kept across restarts):

- ``POPID_REDIS_URL`` set: in Redis, through Django's cache (``add`` + ``incr`` are atomic there);
- otherwise: in the database (``core.ThrottleCounter``), each increment one atomic
  ``UPDATE … SET count = count + 1`` (Django's database cache ``incr`` is a get followed by a set,
  which loses counts between processes, and its culling would let an attacker flush counters).

Password logins (citizen password, officer console) — ``begin_login`` / ``LoginAttempt``:

- a browser that logged in to this account successfully in the last ``TRUST_DAYS`` days carries a
  signed *known-device* cookie; it skips the per-address and per-account limits below and has its
  own back-off (``FREE_FAILURES`` free, then 2^n seconds up to ``MAX_DELAY``), so a stolen cookie
  does not give free guessing and a stranger cannot slow the owner's own browser;
- any other browser: per **account** (across every address) ``FREE_FAILURES`` free failures, then
  one attempt per 2^n seconds up to ``MAX_DELAY`` (a botnet gets no more guesses than one host);
- per **client address**: ``IP_FAILURES_PER_WINDOW`` attempts an hour are evaluated freely; past
  that the address is not refused, each attempt must carry a solved proof-of-work challenge
  (server-issued, signed, single-use; solved by ``identity/pow.js``), so a password spray slows
  down while a neighbour behind the same NAT still logs in. An attempt without a valid solution
  is answered before the password is looked at: the answer never says whether it was right.

The per-address count is reserved *before* the password is checked (and given back on
success), so concurrent workers cannot let more than the limit through.

Second factors (OTP, passcode, TOTP, OTP sending) keep the simpler ``check``/``record_*``
counters: per (account, address) back-off and a per-address cap per factor.
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from popid.core import net
from popid.core.net import Client

if TYPE_CHECKING:
    from popid.core.models import ThrottleCounter

FREE_FAILURES = 3
MAX_DELAY = 300
ACCOUNT_WINDOW = 24 * 3600
IP_FAILURES_PER_WINDOW = 50
IP_WINDOW = 3600

POW_BASE_BITS = 16  # ~65 000 SHA-256 on average: well under a second in a browser
POW_MAX_EXTRA_BITS = 4  # +1 bit for every further IP_FAILURES_PER_WINDOW attempts, at most 20 bits
POW_TTL = 600
POW_SALT = "popid.core.throttle.pow"

TRUST_DAYS = 30
TRUST_SALT = "popid.core.throttle.known-device"
TRUST_MAX_ACCOUNTS = 5

ATOMIC_CACHE_BACKENDS = {
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
}
PROCESS_LOCAL_CACHE_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    challenge_bits: int = 0  # > 0: solve a proof-of-work challenge of this difficulty first


# --- counter stores ---------------------------------------------------------------------------
class CounterStore(Protocol):
    def hit(self, key: str, *, window: int) -> int:
        """Add one to the counter (a new window of ``window`` seconds starts at the first hit);
        return the new value. Exact when several processes hit at once."""

    def give_back(self, key: str) -> None:
        """Take back one hit (never below zero)."""

    def get(self, key: str) -> int: ...

    def claim(self, key: str, *, ttl: int) -> int:
        """Take a slot for ``ttl`` seconds: 0 if this caller got it (exactly one caller does),
        else the seconds until it frees."""

    def remaining(self, key: str) -> int:
        """Seconds until a claimed slot frees (0 if free)."""

    def reset(self, key: str) -> None: ...

    def clear(self) -> None: ...


class DatabaseCounters:
    """Counters in ``core.ThrottleCounter``; every change is one atomic statement."""

    PURGE_PROBABILITY = 0.02

    @staticmethod
    def _model() -> type[ThrottleCounter]:
        from popid.core.models import ThrottleCounter

        return ThrottleCounter

    def hit(self, key: str, *, window: int) -> int:
        model = self._model()
        now = timezone.now()
        fresh = now + timedelta(seconds=window)
        live = Q(expires_at__gt=now)
        with transaction.atomic():
            updated = model.objects.filter(key=key).update(
                count=Case(When(live, then=F("count") + 1), default=Value(1)),
                expires_at=Case(When(live, then=F("expires_at")), default=Value(fresh)))
            if updated:  # the row stays locked until commit: the value read is ours
                return model.objects.filter(key=key).values_list("count", flat=True).get()
            try:
                with transaction.atomic():
                    model.objects.create(key=key, count=1, expires_at=fresh)
            except IntegrityError:  # another worker created it between our UPDATE and INSERT
                return self.hit(key, window=window)
        self._purge(now)
        return 1

    def give_back(self, key: str) -> None:
        self._model().objects.filter(key=key, expires_at__gt=timezone.now(), count__gt=0).update(
            count=F("count") - 1)

    def get(self, key: str) -> int:
        row = self._model().objects.filter(key=key, expires_at__gt=timezone.now()).values_list(
            "count", flat=True).first()
        return int(row or 0)

    def claim(self, key: str, *, ttl: int) -> int:
        model = self._model()
        now = timezone.now()
        until = now + timedelta(seconds=ttl)
        with transaction.atomic():
            if model.objects.filter(key=key, expires_at__lte=now).update(count=1, expires_at=until):
                return 0
            try:
                with transaction.atomic():
                    model.objects.create(key=key, count=1, expires_at=until)
            except IntegrityError:
                return self.remaining(key) or 1
        self._purge(now)
        return 0

    def remaining(self, key: str) -> int:
        expires = self._model().objects.filter(key=key).values_list("expires_at", flat=True).first()
        if expires is None:
            return 0
        seconds = (expires - timezone.now()).total_seconds()
        return math.ceil(seconds) if seconds > 0 else 0

    def reset(self, key: str) -> None:
        self._model().objects.filter(key=key).delete()

    def clear(self) -> None:
        self._model().objects.all().delete()

    def _purge(self, now: datetime) -> None:
        """Expired rows go now and then (only when a row was created, so the table stays small)."""
        if random.random() < self.PURGE_PROBABILITY:
            self._model().objects.filter(expires_at__lte=now).delete()


class CacheCounters:
    """Counters in a cache whose ``add`` and ``incr`` are atomic across processes (Redis)."""

    PREFIX = "popid:throttle:"

    def __init__(self, backend=None) -> None:  # type: ignore[no-untyped-def]
        self.cache = backend or cache

    def hit(self, key: str, *, window: int) -> int:
        key = self.PREFIX + key
        self.cache.add(key, 0, timeout=window)
        try:
            return int(self.cache.incr(key))
        except ValueError:  # expired between add and incr
            self.cache.set(key, 1, timeout=window)
            return 1

    def give_back(self, key: str) -> None:
        key = self.PREFIX + key
        try:
            if self.cache.decr(key) < 0:
                self.cache.incr(key)
        except ValueError:
            pass

    def get(self, key: str) -> int:
        return int(self.cache.get(self.PREFIX + key) or 0)

    def claim(self, key: str, *, ttl: int) -> int:
        key = self.PREFIX + "slot:" + key
        if self.cache.add(key, time.time() + ttl, timeout=ttl):
            return 0
        return max(1, math.ceil((self.cache.get(key) or time.time() + ttl) - time.time()))

    def remaining(self, key: str) -> int:
        until = self.cache.get(self.PREFIX + "slot:" + key)
        return max(0, math.ceil(until - time.time())) if until else 0

    def reset(self, key: str) -> None:
        self.cache.delete_many([self.PREFIX + key, self.PREFIX + "slot:" + key])

    def clear(self) -> None:
        self.cache.clear()


def store() -> CounterStore:
    """Redis (or memcached) when configured, else the database: never process memory."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return CacheCounters() if backend in ATOMIC_CACHE_BACKENDS else DatabaseCounters()


def clear_all() -> None:
    """Forget every counter (tests, and an operator after an incident)."""
    store().clear()


# --- production guard: no process-local cache with several workers ---------------------------
def cache_is_process_local() -> bool:
    return settings.CACHES.get("default", {}).get("BACKEND", "") in PROCESS_LOCAL_CACHE_BACKENDS


def assert_shared_cache_for(workers: int) -> None:
    """Refuse to start ``workers`` > 1 web processes when the cache lives in each process
    (limits, nonces and sessions held there would be per worker). ``popid serve`` calls it with
    the worker count before the server starts (``popid.deploy.granian`` and the gunicorn
    configuration); the deploy check ``popid.E101`` says the same."""
    if workers > 1 and cache_is_process_local():
        raise ImproperlyConfigured(
            f"{workers} web workers with a process-local cache ({settings.CACHES['default']['BACKEND']}): "
            "rate limits and one-time values would be counted per worker. Unset the CACHES override "
            "(the default is the shared database cache) or set POPID_REDIS_URL.")


def configured_workers() -> int:
    """The worker count the deployment declares: POPID_WEB_CONCURRENCY, else POPID_WEB_WORKERS
    (``popid serve``), else gunicorn's own WEB_CONCURRENCY, else the count ``popid serve`` starts
    when none is set (so the check refuses what the server would refuse at start)."""
    import os

    from popid.deploy.startup import default_workers

    for name in ("POPID_WEB_CONCURRENCY", "POPID_WEB_WORKERS", "WEB_CONCURRENCY"):
        raw = os.environ.get(name, "").strip()
        if raw:
            try:
                return int(raw)
            except ValueError:
                return 2  # unreadable: assume several rather than silently pass
    return default_workers()


@register(Tags.caches, deploy=True)
def check_shared_cache(app_configs=None, **kwargs) -> list[CheckMessage]:  # type: ignore[no-untyped-def]
    workers = configured_workers()
    try:
        assert_shared_cache_for(workers)
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="Several workers need the database cache or Redis.", id="popid.E101")]
    return []


# --- keys, client address ---------------------------------------------------------------------
def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or X-Forwarded-For only behind POPID_TRUSTED_PROXY (one helper: core.net)."""
    return net.client_ip(request)


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


def _delay(failures: int) -> int:
    """Seconds between attempts after ``failures`` failures (0 while still free)."""
    over = failures - FREE_FAILURES
    return min(MAX_DELAY, 2 ** (over - 1)) if over > 0 else 0


def _backoff(counter_key: str, slot_key: str) -> int:
    """0 if an attempt may go ahead now, else seconds to wait. After a failure the slot is held
    for the back-off delay; when it frees, exactly one attempt takes it again (so concurrent
    workers cannot let a burst through) and holds it until its own outcome."""
    counters = store()
    delay = _delay(counters.get(counter_key))
    return counters.claim(slot_key, ttl=delay) if delay else 0


# --- second factors: per (account, address) back-off and per-address cap ----------------------
def check(*, scope: str, account: str, ip: str) -> Verdict:
    """May this attempt go ahead now? Does not count the attempt."""
    counters = store()
    wait = counters.remaining(_key(f"{scope}-slot", account.lower(), ip))
    if wait:
        return Verdict(False, wait)
    if counters.get(_key(f"{scope}-ip", ip)) >= IP_FAILURES_PER_WINDOW:
        return Verdict(False, IP_WINDOW)
    return Verdict(True)


def record_failure(*, scope: str, account: str, ip: str) -> None:
    counters = store()
    failures = counters.hit(_key(scope, account.lower(), ip), window=ACCOUNT_WINDOW)
    if delay := _delay(failures):
        slot = _key(f"{scope}-slot", account.lower(), ip)
        counters.reset(slot)
        counters.claim(slot, ttl=delay)
    counters.hit(_key(f"{scope}-ip", ip), window=IP_WINDOW)


def record_success(*, scope: str, account: str, ip: str) -> None:
    counters = store()
    counters.reset(_key(scope, account.lower(), ip))
    counters.reset(_key(f"{scope}-slot", account.lower(), ip))


# --- citizen login factors --------------------------------------------------------------------
# Each factor has its own counters, so guessing OTPs does not slow the owner's password and
# vice versa; the password factor goes through ``begin_login`` (known devices, challenges).
FACTOR_PASSWORD = "citizen-password"
FACTOR_REAUTH = "citizen-reauth"  # a logged-in citizen re-entering the password (security page)
FACTOR_OTP = "citizen-otp"
FACTOR_PASSCODE = "citizen-passcode"
FACTOR_TOTP = "citizen-totp"
OTP_SEND = "citizen-otp-send"
CONSOLE_LOGIN = "console-login"
FACTORS = (FACTOR_PASSWORD, FACTOR_REAUTH, FACTOR_OTP, FACTOR_PASSCODE, FACTOR_TOTP, OTP_SEND)


def check_factor(client: Client, *, factor: str, account: str) -> Verdict:
    """``check`` for a citizen factor, keyed on the caller's IP address."""
    return check(scope=factor, account=account, ip=client.ip)


def fail_factor(client: Client, *, factor: str, account: str) -> None:
    record_failure(scope=factor, account=account, ip=client.ip)


def pass_factor(client: Client, *, factor: str, account: str) -> None:
    record_success(scope=factor, account=account, ip=client.ip)


# --- proof of work ----------------------------------------------------------------------------
def pow_bits_for(attempts: int) -> int:
    """Difficulty for an address that made ``attempts`` attempts this window (0: none needed)."""
    if attempts <= IP_FAILURES_PER_WINDOW:
        return 0
    extra = (attempts - IP_FAILURES_PER_WINDOW - 1) // IP_FAILURES_PER_WINDOW
    return POW_BASE_BITS + min(POW_MAX_EXTRA_BITS, extra)


def issue_challenge(*, scope: str, bits: int) -> str:
    """A signed, single-use challenge: find a decimal ``solution`` such that
    SHA-256(challenge ":" solution) starts with ``bits`` zero bits."""
    return signing.dumps({"s": scope, "b": bits, "n": secrets.token_hex(16)}, salt=POW_SALT)


def challenge_bits(challenge: str) -> int:
    try:
        return int(signing.loads(challenge, salt=POW_SALT, max_age=POW_TTL)["b"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return 0


def _zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solve_challenge(challenge: str) -> str:
    """The work a browser does (used by tests and scripted clients)."""
    bits = challenge_bits(challenge)
    counter = 0
    while _zero_bits(hashlib.sha256(f"{challenge}:{counter}".encode()).digest()) < bits:
        counter += 1
    return str(counter)


def spend_solution(*, scope: str, challenge: str, solution: str, bits: int) -> bool:
    """True once per challenge, when it is ours, fresh, hard enough and solved."""
    if not challenge or not solution or len(solution) > 20 or not solution.isdigit() or len(challenge) > 400:
        return False
    try:
        data = signing.loads(challenge, salt=POW_SALT, max_age=POW_TTL)
        issued_bits, nonce = int(data["b"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return False
    if data.get("s") != scope or issued_bits < bits:
        return False
    if _zero_bits(hashlib.sha256(f"{challenge}:{solution}".encode()).digest()) < issued_bits:
        return False
    return store().claim(_key("pow-spent", nonce), ttl=POW_TTL + 60) == 0


def pending_challenge_bits(client: Client, *, scope: str) -> int:
    """The difficulty the next attempt from this address will need (for showing the form)."""
    return pow_bits_for(store().get(_key(f"{scope}-ip", client.ip)) + 1)


# --- known devices ----------------------------------------------------------------------------
def _trust_cookie(scope: str) -> str:
    return f"{net.CLIENT_COOKIE_PREFIX}{scope.replace('-', '_')}"


def _account_tag(scope: str, account: str) -> str:
    return hashlib.sha256(f"{scope}\x1f{account.lower()}".encode()).hexdigest()[:24]


def _read_trust(cookies: Mapping[str, str], scope: str) -> dict[str, Any]:
    raw = cookies.get(_trust_cookie(scope))
    if not raw or len(raw) > 2000:
        return {}
    try:
        data = signing.loads(raw, salt=TRUST_SALT, max_age=TRUST_DAYS * 86400)
    except signing.BadSignature:
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("a"), dict) else {}


def known_device(client: Client, *, scope: str, account: str) -> str | None:
    """The browser's device id if it logged in to ``account`` in the last ``TRUST_DAYS`` days."""
    data = _read_trust(client.cookies, scope)
    seen = data.get("a", {}).get(_account_tag(scope, account))
    if not isinstance(seen, int | float) or time.time() - seen > TRUST_DAYS * 86400:
        return None
    device = data.get("d")
    return device if isinstance(device, str) and len(device) <= 64 else None


def remember_device(request: HttpRequest, response: HttpResponse, *, scope: str, account: str) -> None:
    """After a successful login: this browser becomes a known device of the account."""
    data = _read_trust(request.COOKIES, scope)
    device = data.get("d") if isinstance(data.get("d"), str) else secrets.token_urlsafe(16)
    accounts = {k: v for k, v in data.get("a", {}).items() if isinstance(v, int | float)}
    accounts[_account_tag(scope, account)] = int(time.time())
    newest = dict(sorted(accounts.items(), key=lambda item: item[1])[-TRUST_MAX_ACCOUNTS:])
    response.set_cookie(_trust_cookie(scope), signing.dumps({"d": device, "a": newest}, salt=TRUST_SALT),
                        max_age=TRUST_DAYS * 86400, httponly=True, secure=settings.SECURE_COOKIES,
                        samesite="Lax", path="/")


# --- password logins --------------------------------------------------------------------------
@dataclass
class LoginAttempt:
    """One password attempt: ``verdict`` says whether to check the password at all; then call
    exactly one of ``failed`` / ``succeeded``."""

    scope: str
    account: str
    ip: str
    device: str | None
    verdict: Verdict
    ip_reserved: bool = False
    _done: bool = field(default=False, repr=False)

    def failed(self) -> None:
        if self._done or not self.verdict.allowed:
            return
        self._done = True
        counters = store()
        name = self.account.lower()
        parts = (name, self.device) if self.device else (name,)
        kind = "dev" if self.device else "acct"
        counter, slot = _key(f"{self.scope}-{kind}", *parts), _key(f"{self.scope}-{kind}-slot", *parts)
        if delay := _delay(counters.hit(counter, window=ACCOUNT_WINDOW)):  # the wait starts now
            counters.reset(slot)
            counters.claim(slot, ttl=delay)

    def succeeded(self) -> None:
        if self._done or not self.verdict.allowed:
            return
        self._done = True
        counters = store()
        if self.device:
            counters.reset(_key(f"{self.scope}-dev", self.account.lower(), self.device))
            counters.reset(_key(f"{self.scope}-dev-slot", self.account.lower(), self.device))
        else:
            counters.reset(_key(f"{self.scope}-acct", self.account.lower()))
            counters.reset(_key(f"{self.scope}-acct-slot", self.account.lower()))
        if self.ip_reserved:  # a right password is not spraying: give the address its attempt back
            counters.give_back(_key(f"{self.scope}-ip", self.ip))


def begin_login(client: Client, *, scope: str, account: str, pow_challenge: str = "",
                pow_solution: str = "") -> LoginAttempt:
    """Decide whether a password attempt is evaluated (see the module docstring)."""
    ip = client.ip
    counters = store()
    name = account.lower()
    device = known_device(client, scope=scope, account=account)
    if device:
        wait = _backoff(_key(f"{scope}-dev", name, device), _key(f"{scope}-dev-slot", name, device))
        return LoginAttempt(scope, account, ip, device, Verdict(not wait, wait))
    ip_key = _key(f"{scope}-ip", ip)
    attempts = counters.hit(ip_key, window=IP_WINDOW)
    bits = pow_bits_for(attempts)
    if bits and not spend_solution(scope=scope, challenge=pow_challenge, solution=pow_solution, bits=bits):
        counters.give_back(ip_key)  # not evaluated: does not raise the difficulty further
        return LoginAttempt(scope, account, ip, None, Verdict(False, challenge_bits=bits))
    wait = _backoff(_key(f"{scope}-acct", name), _key(f"{scope}-acct-slot", name))
    if wait:
        counters.give_back(ip_key)
        return LoginAttempt(scope, account, ip, None, Verdict(False, wait))
    return LoginAttempt(scope, account, ip, None, Verdict(True), ip_reserved=True)
