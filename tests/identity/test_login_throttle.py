"""Login throttling (issue #10, findings 4 and 5): guessing slows down, spraying from one address
needs a proof-of-work per attempt, and the owner is never locked out — from a known device
always, from a new device behind a throttled address after solving the challenge."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from popid.core import messaging, throttle
from popid.core.net import Client as Caller
from popid.identity.models import LoginEvent
from tests.identity.test_identity_accounts import PASSWORD as CITIZEN_PASSWORD
from tests.identity.test_identity_accounts import clean_state, last_otp, login, make_account  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
PASSWORD = "Mat-khau-thu-nghiem-1"
ATTACKER = "203.0.113.9"
NAT = "203.0.113.50"
DESK = "198.51.100.7"
CITIZEN_LOGIN = "/tai-khoan/dang-nhap/"


@pytest.fixture(autouse=True)
def quick_challenges(monkeypatch):
    """Small proofs of work keep the tests fast; the protocol is the same at any difficulty."""
    monkeypatch.setattr(throttle, "POW_BASE_BITS", 8)


@pytest.fixture(autouse=True)
def steady_backoff(monkeypatch):
    """After the free failures every wait is the maximum, so no test depends on how fast the
    machine hashes passwords (the real 1, 2, 4… second steps are checked on their own)."""
    real = throttle._delay
    monkeypatch.setattr(throttle, "_delay", lambda failures: throttle.MAX_DELAY if real(failures) else 0)


def test_backoff_doubles_after_the_free_failures_up_to_the_maximum(monkeypatch):
    monkeypatch.undo()
    assert [throttle._delay(n) for n in range(15)] == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def attempt(password: str, ip: str, username: str = "cb.hoankiem", client: Client | None = None, **extra):
    return (client or Client(REMOTE_ADDR=ip)).post("/login/", {"username": username, "password": password, **extra},
                                                   REMOTE_ADDR=ip)


def spray(scope: str, ip: str, n: int = throttle.IP_FAILURES_PER_WINDOW) -> None:
    """``n`` failed logins on ``n`` different accounts from ``ip`` (what a password spray leaves)."""
    caller = Caller(ip=ip)
    for i in range(n):
        login_attempt = throttle.begin_login(caller, scope=scope, account=f"nguoi-{i}")
        assert login_attempt.verdict.allowed
        login_attempt.failed()


def challenge_in(response) -> str:
    match = re.search(r'name="pow_challenge" value="([^"]+)"', response.content.decode())
    assert match, "the page carries no challenge"
    return match.group(1)


def solved(response) -> dict[str, str]:
    challenge = challenge_in(response)
    return {"pow_challenge": challenge, "pow_solution": throttle.solve_challenge(challenge)}


def known_officer(ip: str = DESK) -> Client:
    """The officer's own browser after a successful login (it now holds the known-device cookie)."""
    desk = Client(REMOTE_ADDR=ip)
    assert attempt(PASSWORD, ip, client=desk).status_code == 302
    desk.post("/logout/")
    return desk


# --- officer console --------------------------------------------------------------------------
def test_guessing_delays_unknown_browsers_but_never_the_officers_own_device(officer_hoan_kiem):
    desk = known_officer()
    for _ in range(4):
        assert attempt("sai-mat-khau", ATTACKER).status_code == 200
    blocked = attempt(PASSWORD, ATTACKER)
    assert blocked.status_code == 200 and "thử lại sau" in blocked.content.decode()
    # per account: a fresh browser on another address waits too (a botnet gains nothing)...
    assert "thử lại sau" in attempt(PASSWORD, "192.0.2.77").content.decode()
    # ...but the officer's own browser logs in, from the desk and even from the attacker's address
    assert attempt(PASSWORD, DESK, client=desk).status_code == 302
    desk.post("/logout/")
    assert attempt(PASSWORD, ATTACKER, client=desk).status_code == 302


def test_success_resets_the_counter(officer_hoan_kiem):
    for _ in range(3):
        attempt("sai-mat-khau", DESK)
    assert attempt(PASSWORD, DESK).status_code == 302
    for _ in range(3):
        attempt("sai-mat-khau", DESK)
    assert attempt(PASSWORD, DESK).status_code == 302


def test_a_known_device_has_its_own_backoff_and_cookies_cannot_be_forged(officer_hoan_kiem):
    desk = known_officer()
    for _ in range(4):
        assert attempt("sai-mat-khau", DESK, client=desk).status_code == 200
    assert "thử lại sau" in attempt(PASSWORD, DESK, client=desk).content.decode()  # a stolen cookie is no free pass
    # another officer's cookie, or a tampered one, is an unknown browser: it shares the account's back-off
    for _ in range(4):
        attempt("sai-mat-khau", ATTACKER)
    cookie_name = "popid_known_console_login"
    forged = Client(REMOTE_ADDR=ATTACKER)
    forged.cookies[cookie_name] = desk.cookies[cookie_name].value[:-3] + "abc"
    assert "thử lại sau" in attempt(PASSWORD, ATTACKER, client=forged).content.decode()


def test_spraying_from_one_address_needs_a_challenge_that_reveals_nothing(officer_hoan_kiem):
    spray(throttle.CONSOLE_LOGIN, NAT)
    right, wrong = attempt(PASSWORD, NAT), attempt("sai-mat-khau", NAT)
    # refused before the password is looked at: same status, same message, no login
    assert right.status_code == wrong.status_code == 429
    for response in (right, wrong):
        assert "bài toán xác minh" in response.content.decode() and "pow.js" in response.content.decode()
    assert "_auth_user_id" not in Client().session
    # a tampered, reused or wrong-scope solution is refused the same way
    page = Client(REMOTE_ADDR=NAT).get("/login/")
    fields = solved(page)
    tampered = fields["pow_challenge"].replace(":", ":x", 1)
    assert attempt(PASSWORD, NAT, pow_challenge=tampered, pow_solution=fields["pow_solution"]).status_code == 429
    assert attempt(PASSWORD, NAT, pow_challenge=fields["pow_challenge"], pow_solution="x" * 30).status_code == 429
    other_scope = throttle.issue_challenge(scope=throttle.FACTOR_PASSWORD, bits=8)
    assert attempt(PASSWORD, NAT, pow_challenge=other_scope,
                   pow_solution=throttle.solve_challenge(other_scope)).status_code == 429
    # the officer behind the same NAT, on a new browser, solves it and logs in
    officer = Client(REMOTE_ADDR=NAT)
    fields = solved(officer.get("/login/"))
    assert attempt(PASSWORD, NAT, client=officer, **fields).status_code == 302
    officer.post("/logout/")
    assert attempt(PASSWORD, NAT, **fields).status_code == 429  # single use
    # another address is not concerned at all
    assert attempt(PASSWORD, DESK).status_code == 302


def test_the_challenge_grows_with_the_spray_and_the_page_offers_it(officer_hoan_kiem):
    assert "data-pow-bits" not in Client(REMOTE_ADDR=NAT).get("/login/").content.decode()
    spray(throttle.CONSOLE_LOGIN, NAT)
    page = Client(REMOTE_ADDR=NAT).get("/login/")
    assert throttle.challenge_bits(challenge_in(page)) == 8 and 'data-pow-bits="8"' in page.content.decode()
    assert throttle.pow_bits_for(throttle.IP_FAILURES_PER_WINDOW * 3 + 1) == throttle.POW_BASE_BITS + 2
    assert throttle.pow_bits_for(10**6) == throttle.POW_BASE_BITS + throttle.POW_MAX_EXTRA_BITS


# --- citizens ---------------------------------------------------------------------------------
def citizen_post(client: Client, account, password: str, **extra):
    return client.post(CITIZEN_LOGIN, {"id_number": account.id_number, "password": password, **extra})


def test_attacker_exhausting_the_account_backoff_cannot_stop_the_owner_on_a_known_device(family):
    account = make_account(family["an"])
    owner = Client(REMOTE_ADDR=DESK)
    assert login(owner, account).status_code == 302
    owner.post("/tai-khoan/dang-xuat/")
    attacker = Client(REMOTE_ADDR=ATTACKER)
    statuses = [citizen_post(attacker, account, f"doan-{i}").status_code for i in range(12)]
    assert statuses[:4] == [401] * 4 and set(statuses[4:]) == {429}
    assert citizen_post(attacker, account, CITIZEN_PASSWORD).status_code == 429  # even the right one
    assert citizen_post(Client(REMOTE_ADDR="192.0.2.8"), account, CITIZEN_PASSWORD).status_code == 429
    # the owner's own browser: from home, and from the attacker's very address (same café Wi-Fi)
    response = citizen_post(owner, account, CITIZEN_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/"
    owner.post("/tai-khoan/dang-xuat/")
    owner.defaults["REMOTE_ADDR"] = ATTACKER
    assert citizen_post(owner, account, CITIZEN_PASSWORD)["Location"] == "/tai-khoan/"
    assert LoginEvent.objects.filter(account=account, result="wrong_password").count() == 4


def test_owner_on_a_new_device_behind_a_sprayed_address_logs_in_after_the_challenge(family):
    account = make_account(family["an"])
    spray(throttle.FACTOR_PASSWORD, NAT)
    owner = Client(REMOTE_ADDR=NAT)
    page = owner.get(CITIZEN_LOGIN)
    assert page.status_code == 200 and "identity/pow.js" in page.content.decode()
    sent_before = len(messaging.read_outbox())
    refused = citizen_post(owner, account, CITIZEN_PASSWORD)  # no solution: not evaluated
    assert refused.status_code == 429 and len(messaging.read_outbox()) == sent_before
    assert not LoginEvent.objects.filter(account=account).exists()
    response = citizen_post(owner, account, CITIZEN_PASSWORD, **solved(refused))
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/xac-thuc-otp/"
    response = owner.post("/tai-khoan/xac-thuc-otp/", {"code": last_otp(account.phone)})
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/"
    assert owner.get("/tai-khoan/").status_code == 200
    # from now on this browser is a known device: no challenge needed behind the same address
    owner.post("/tai-khoan/dang-xuat/")
    assert citizen_post(owner, account, CITIZEN_PASSWORD)["Location"] == "/tai-khoan/"
    # a neighbour on another address never saw a challenge
    assert 'data-pow-bits' not in Client(REMOTE_ADDR=DESK).get(CITIZEN_LOGIN).content.decode()


def test_owner_on_a_new_device_during_a_targeted_attack_recovers_by_sms_and_logs_in(family):
    account = make_account(family["an"])
    for i in range(6):  # someone is guessing this very account: unknown browsers now wait
        citizen_post(Client(REMOTE_ADDR=ATTACKER), account, f"doan-{i}")
    owner = Client(REMOTE_ADDR=NAT)
    assert citizen_post(owner, account, CITIZEN_PASSWORD).status_code == 429
    # the phone proves the owner: recovery makes this browser a known device
    owner.post("/tai-khoan/quen-mat-khau/", {"id_number": account.id_number, "phone": account.phone})
    new_password = "Mat-khau-moi-an-toan-2026"
    response = owner.post("/tai-khoan/xac-thuc-otp/", {"code": last_otp(account.phone), "new_password": new_password})
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/dang-nhap/"
    response = citizen_post(owner, account, new_password)
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/xac-thuc-otp/"
    assert owner.post("/tai-khoan/xac-thuc-otp/", {"code": last_otp(account.phone)})["Location"] == "/tai-khoan/"
    # while the attacker's unknown browsers still wait
    assert citizen_post(Client(REMOTE_ADDR=ATTACKER), account, new_password).status_code == 429


def test_unsolved_guesses_are_refused_without_revealing_the_password(family):
    account = make_account(family["an"])
    spray(throttle.FACTOR_PASSWORD, ATTACKER)
    right = citizen_post(Client(REMOTE_ADDR=ATTACKER), account, CITIZEN_PASSWORD)
    wrong = citizen_post(Client(REMOTE_ADDR=ATTACKER), account, "sai-mat-khau")
    strip = re.compile(r'value="[^"]*"')
    assert right.status_code == wrong.status_code == 429
    assert strip.sub("", right.content.decode()) == strip.sub("", wrong.content.decode())
    assert not LoginEvent.objects.filter(account=account).exists()  # the password was never checked
    # and unsolved attempts do not raise the difficulty for the neighbours
    assert throttle.pending_challenge_bits(Caller(ip=ATTACKER),
                                           scope=throttle.FACTOR_PASSWORD) == throttle.POW_BASE_BITS


def test_self_unlock_form_offers_the_challenge_too(family):
    account = make_account(family["an"])
    spray(throttle.FACTOR_PASSWORD, NAT)
    browser = Client(REMOTE_ADDR=NAT)
    refused = browser.post("/tai-khoan/mo-khoa/", {"id_number": account.id_number, "password": CITIZEN_PASSWORD})
    assert refused.status_code == 429 and "identity/pow.js" in refused.content.decode()
    response = browser.post("/tai-khoan/mo-khoa/", {"id_number": account.id_number, "password": CITIZEN_PASSWORD,
                                                    **solved(refused)})
    assert response.status_code == 422 and "Tài khoản không bị khóa." in response.content.decode()  # evaluated
