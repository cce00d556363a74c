"""Daily reconciliation against the sandbox gateway's settlement report (CSV of the day's
payments and refunds): matches, and each kind of mismatch — paid here but not in the report, in
the report but not here, amount differs — listed by the command, kept for the console page, run
daily by a periodic task; a malformed report is refused and nothing is stored."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from popid.core import tasks as core_tasks
from popid.core.access import Actor
from popid.services import submissions
from popid.services.errors import SettlementReportUnavailable
from popid.services.models import Payment, ReconciliationLine, ReconciliationRun, SandboxCharge
from popid.services.payments import ledger
from popid.services.payments.base import SETTLEMENT_COLUMNS
from popid.services.payments.reconciliation import reconcile_day
from popid.services.payments.sandbox import SandboxGateway, notice_for
from popid.services.tasks import reconcile_settlement
from tests.services.test_services_payments import make_account, started

SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.fixture
def an_account(family):
    return make_account(family["an"])


def _paid(account, key: str) -> Payment:
    _submission, payment = started(account, key=key)
    notice = notice_for(SandboxGateway.decide(payment.order_id, paid=True))
    return submissions.process_notice(notice.body, notice.signature)


def test_settlement_report_is_the_days_csv(an_account):
    payment = _paid(an_account, "k1")
    rows = list(csv.DictReader(io.StringIO(SandboxGateway().settlement_report(timezone.localdate()).decode())))
    assert list(rows[0]) == SETTLEMENT_COLUMNS and rows[0]["order_id"] == payment.order_id
    assert rows[0]["type"] == "payment" and int(rows[0]["amount"]) == payment.amount
    assert SandboxGateway().settlement_report(timezone.localdate() - timedelta(days=1)).count(b"\n") == 1


def test_matches_and_every_kind_of_mismatch(an_account):
    today = timezone.localdate()
    matched = _paid(an_account, "k1")
    refunded = _paid(an_account, "k2")
    ledger.refund_payment(refunded, reason="Thử hoàn tiền", requested_by="test")
    # in the report, not here: the bank settled an order PopID never opened
    SandboxCharge.objects.create(order_id="DVCUNKNOWN0001", amount=15_000, description="x", return_url="x",
                                 callback_url="x", state="paid", bank_reference="SBXX", decided_at=timezone.now())
    # here, not in the report: recorded paid although the bank never settled it
    _submission, ghost = started(an_account, key="k3")
    Payment.objects.filter(pk=ghost.pk).update(state="paid", paid_at=timezone.now(), gateway_reference="FAKE")
    SandboxCharge.objects.filter(order_id=ghost.order_id).update(state="declined", decided_at=timezone.now())
    # amount differs
    differs = _paid(an_account, "k4")
    SandboxCharge.objects.filter(order_id=differs.order_id).update(amount=differs.amount + 1000)
    run = reconcile_day(actor=SYSTEM, day=today)
    outcomes = {(line.kind, line.order_id): line.outcome for line in run.lines.all()}
    assert outcomes[("payment", matched.order_id)] == "matched"
    assert outcomes[("payment", refunded.order_id)] == "matched"
    assert outcomes[("refund", refunded.order_id)] == "matched"
    assert outcomes[("payment", "DVCUNKNOWN0001")] == "missing_here"
    assert outcomes[("payment", ghost.order_id)] == "missing_in_report"
    assert outcomes[("payment", differs.order_id)] == "amount_differs"
    assert run.matched == 3 and run.mismatched == 3 and len(run.report_sha256) == 64
    line = run.lines.get(order_id=differs.order_id)
    assert line.amount_in_report - line.amount_here == 1000


def test_lost_callback_is_recovered_before_comparing(an_account):
    _submission, payment = started(an_account, key="k1")
    SandboxGateway.decide(payment.order_id, paid=True)  # the callback never arrived
    run = reconcile_day(actor=SYSTEM, day=timezone.localdate())
    payment.refresh_from_db()
    assert payment.state == "paid" and run.mismatched == 0 and run.matched == 1


def test_command_lists_mismatches_and_exits_non_zero(an_account):
    _paid(an_account, "k1")
    out = io.StringIO()
    call_command("payments", "reconcile", "--date", timezone.localdate().isoformat(), stdout=out)
    assert "matched=1 mismatched=0" in out.getvalue()
    SandboxCharge.objects.create(order_id="DVCUNKNOWN0002", amount=15_000, description="x", return_url="x",
                                 callback_url="x", state="paid", bank_reference="SBXY", decided_at=timezone.now())
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("payments", "reconcile", "--date", timezone.localdate().isoformat(), stdout=out)
    assert exit_code.value.code == 1 and "missing_here payment DVCUNKNOWN0002" in out.getvalue()
    assert ReconciliationRun.objects.count() == 2


class GarbageGateway(SandboxGateway):
    def __init__(self, content: bytes) -> None:
        self.content = content

    def settlement_report(self, day):
        return self.content


@pytest.mark.parametrize("content", [b"\xff\xfe", b"order,amount\nX,1\n",
                                     b"type,order_id,refund_id,amount,currency,reference,settled_at\n"
                                     b"payment,X,,lots,VND,R,2026-01-01\n",
                                     b"type,order_id,refund_id,amount,currency,reference,settled_at\n"
                                     b"transfer,X,,1,VND,R,2026-01-01\n"])
def test_malformed_report_is_refused_and_nothing_is_stored(db, content):
    with pytest.raises(SettlementReportUnavailable):
        reconcile_day(actor=SYSTEM, day=timezone.localdate(), gateway=GarbageGateway(content))
    assert not ReconciliationRun.objects.exists() and not ReconciliationLine.objects.exists()


def test_officer_may_not_reconcile_supervisor_may(db, officer_hoan_kiem, supervisor_nation, client, an_account):
    with pytest.raises(Exception, match="đối soát"):
        reconcile_day(actor=Actor.for_user(officer_hoan_kiem), day=timezone.localdate())
    client.force_login(officer_hoan_kiem)
    assert client.get("/services/doi-soat/").status_code == 403
    _paid(an_account, "k1")
    client.force_login(supervisor_nation)
    future = client.post("/services/doi-soat/", {"day": (timezone.localdate() + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and not ReconciliationRun.objects.exists()
    response = client.post("/services/doi-soat/", {"day": timezone.localdate().isoformat()})
    run = ReconciliationRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/services/doi-soat/{run.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert 'id="matches"' in page and 'id="no-mismatch"' in page
    assert str(run.day.year) in client.get("/services/doi-soat/").content.decode()


def test_daily_task_reconciles_yesterday(db):
    periodic = core_tasks.PERIODIC["popid.services.tasks.reconcile_settlement"]
    assert periodic.every == 24 * 3600
    result = reconcile_settlement.call()
    assert result["day"] == (timezone.localdate() - timedelta(days=1)).isoformat()
    assert ReconciliationRun.objects.get().ran_by == "task:reconcile_settlement"
