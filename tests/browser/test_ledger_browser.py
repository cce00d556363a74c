"""The citizen's access history in Debian's Chromium: every entry's inclusion proof and the
checkpoint's Ed25519 signature are verified by the page's own JavaScript (WebCrypto), and a record
tampered with in the database shows as failed; no CSP violation."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from popid.core.models import AccessRecord
from popid.ledger import services
from tests.ledger.test_ledger_history import insider, make_account, read, session_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_history(browser, live_server, session_key: str, context=None):
    if context is None:
        context = browser.new_context(locale="vi-VN")
        context.add_cookies([{"name": "sessionid", "value": session_key, "url": live_server.url}])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.goto(f"{live_server.url}/so-cai/lich-su-truy-cap/")
    page.wait_for_selector("body[data-ledger-verified='done']", timeout=15000)
    return page, problems


def _more_reads(count: int) -> None:
    """Other reads (and one more of An's) after the first visit, in their own thread (see _tamper)."""
    try:
        from popid.registry.models import Person

        an = Person.objects.get(full_name="Nguyễn Văn An")
        read(an, purpose="Tra cứu lần sau")
        for i in range(count):
            read(Person.objects.get(full_name="Trần Thị Bình"), purpose=f"Tra cứu thêm {i}")
    finally:
        connection.close()


def _tamper(purpose: str, new_purpose: str) -> None:
    """An insider edits a committed record. In its own thread: once Playwright's event loop runs
    in the test thread, Django would open a second connection there and never close it."""
    try:
        with insider():  # the database superuser's rights bypass the append-only triggers
            AccessRecord.objects.filter(purpose=purpose).update(purpose=new_purpose)
    finally:
        connection.close()


@pytest.fixture
def citizen_with_history(live_server, transactional_db, family) -> str:
    """Nguyễn Văn An's account and session with four reads of his record among others' reads."""
    an = family["an"]
    account = make_account(an)
    tricky = 'Tra cứu "đặc biệt" \\ kèm\ttab — 😀 <b>không phải thẻ</b>'  # JS and Python canonical JSON agree
    for purpose in ["Giải quyết thủ tục cấp lại thẻ", "Xác thực eKYC mở tài khoản ngân hàng", "Tra cứu cư trú", tricky]:
        read(an, purpose=purpose)
    for i in range(9):  # other people's reads make the tree non-trivial
        read(family["binh" if i % 2 else "grandma"], purpose=f"Tra cứu {i}")
    services.integrate()
    return session_for(account)


# Data first (fixture before ``browser``), then Playwright: see test_console_browser.py.
def test_citizen_sees_every_entry_verified_and_a_tampered_one_failed(live_server, citizen_with_history, browser):
    session_key = citizen_with_history
    page, problems = open_history(browser, live_server, session_key)
    statuses = page.locator("#ledger-entries .ledger-status")
    assert statuses.count() == 4
    assert [statuses.nth(i).get_attribute("data-status") for i in range(4)] == ["ok"] * 4
    assert page.locator("#ledger-signature").get_attribute("data-status") == "ok"
    assert page.locator("#ledger-completeness").get_attribute("data-status") == "ok"
    summary = page.inner_text("#ledger-summary")
    assert "Đã kiểm chứng 4/4 mục; 0 mục không hợp lệ" in summary and "liên tục" in summary
    assert page.locator("#ledger-consistency").get_attribute("data-status") == "waiting"  # first visit
    assert not problems, problems

    # the log grows; the same browser checks the new checkpoint extends the one it remembered
    grow = threading.Thread(target=_more_reads, args=(12,))
    grow.start()
    grow.join()
    page, problems = open_history(browser, live_server, session_key, context=page.context)
    assert page.locator("#ledger-consistency").get_attribute("data-status") == "ok"
    assert "kích thước 13" in page.inner_text("#ledger-consistency")
    assert page.locator("#ledger-entries .ledger-status[data-status='ok']").count() == 5
    assert not problems, problems
    # a browser that remembers a different history for size 13 is told the log was rewritten
    page.evaluate("""localStorage.setItem('popid-ledger-last-checkpoint',
                     JSON.stringify({size: 13, root: btoa(String.fromCharCode(...new Uint8Array(32)))}))""")
    page, _problems = open_history(browser, live_server, session_key, context=page.context)
    assert page.locator("#ledger-consistency").get_attribute("data-status") == "failed"
    assert page.locator("#ledger-summary").get_attribute("data-status") == "failed"

    tamper = threading.Thread(target=_tamper, args=("Xác thực eKYC mở tài khoản ngân hàng", "Tra cứu vô hại"))
    tamper.start()
    tamper.join()
    page, problems = open_history(browser, live_server, session_key)
    row = page.locator("#ledger-entries tr", has_text="Tra cứu vô hại")
    assert row.locator(".ledger-status").get_attribute("data-status") == "failed"
    assert row.locator(".ledger-status").inner_text() == "Không hợp lệ"
    others = page.locator("#ledger-entries tr", has_text="Tra cứu cư trú")
    assert others.locator(".ledger-status").get_attribute("data-status") == "ok"
    assert page.locator("#ledger-summary").get_attribute("data-status") == "failed"
    assert not problems, problems


def _tamper_newest(attack: str) -> None:
    """An insider with the database's superuser rights (bypassing the append-only triggers) removes,
    hides or reorders An's newest entry. In its own thread, like _tamper."""
    try:
        an_records = AccessRecord.objects.filter(person_id_number__in=AccessRecord.objects.filter(
            purpose="Tra cứu cư trú").values("person_id_number")).order_by("-id")
        newest, previous = an_records[0], an_records[1]
        with insider():
            if attack == "delete":
                AccessRecord.objects.filter(pk=newest.pk).delete()
            elif attack == "hide":
                AccessRecord.objects.filter(pk=newest.pk).update(hidden_until=timezone.now() + timedelta(days=365))
            else:  # reorder: the newest and the one before swap places (time and what was read)
                AccessRecord.objects.filter(pk=newest.pk).update(at=previous.at, purpose=previous.purpose)
                AccessRecord.objects.filter(pk=previous.pk).update(at=newest.at, purpose=newest.purpose)
    finally:
        connection.close()


@pytest.mark.parametrize("attack", ["delete", "hide", "reorder"])
def test_a_deleted_hidden_or_reordered_newest_entry_shows_red(live_server, citizen_with_history, browser, attack):
    session_key = citizen_with_history
    thread = threading.Thread(target=_tamper_newest, args=(attack,))
    thread.start()
    thread.join()
    page, problems = open_history(browser, live_server, session_key)
    assert page.locator("#ledger-summary").get_attribute("data-status") == "failed"
    statuses = page.locator("#ledger-entries .ledger-status")
    if attack == "reorder":
        assert statuses.count() == 4
        assert page.locator("#ledger-entries .ledger-status[data-status='failed']").count() == 2
    else:  # every entry still shown verifies: only the signed head shows the newest one is missing
        assert statuses.count() == 3
        assert [statuses.nth(i).get_attribute("data-status") for i in range(3)] == ["ok"] * 3
        completeness = page.locator("#ledger-completeness")
        assert completeness.get_attribute("data-status") == "failed"
        assert "KHÔNG đầy đủ" in completeness.inner_text()
        assert "counts 4 entries, 3 shown" in completeness.get_attribute("title")
    assert not problems, problems
