"""The citizen's in-app notifications (issue #19): made by the outbox consumers from the events
of a dossier's transition, a traffic fine and an agency's consent request, run by a real
django-tasks worker; once per event whatever the number of runs; listed, counted in the bottom
bar and marked read by their owner only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from popid.core import outbox
from popid.exchange import services as exchange_services
from popid.identity.models import Guardianship
from popid.notifications.models import Kind, Notification
from popid.notifications.tasks import notify_consent_requested, notify_dossier_state, notify_fine_issued
from popid.registry.models import OutboxEvent
from popid.services import dossiers
from popid.services.procedures import get_procedure
from popid.traffic import services as traffic_services
from tests.exchange.test_exchange_services import make_bank, rc
from tests.ops.test_ops_tasks import run_worker
from tests.services.test_services_citizen import PDF, form_data, login, make_account
from tests.traffic.conftest import ingest


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def an_account(family):
    return make_account(family["an"], level=2)


@pytest.fixture
def binh_account(family):
    return make_account(family["binh"], level=2)


def submit(account):
    dossier, _created = dossiers.submit_dossier(
        account=account, procedure_code="temporary_residence", data={
            k: v for k, v in form_data().items() if k in {"commune_code", "address", "valid_from", "valid_until"}},
        attachments=[dossiers.IncomingFile("proof_of_residence", "a.pdf", PDF, "application/pdf")])
    return dossier


def page(client: Client, path: str = "/thong-bao/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


# --- made from each event ------------------------------------------------------------------------
def test_dossier_transitions_reach_the_applicant_through_the_worker(client, an_account, actor_hoan_kiem):
    dossier = submit(an_account)
    dossiers.claim(actor=actor_hoan_kiem, code=dossier.code)
    assert not Notification.objects.exists()  # the command only wrote the event; the worker tells
    run_worker()
    made = list(Notification.objects.filter(account=an_account).order_by("created_at", "pk"))
    assert [(n.kind, n.subject, n.data["to_state"]) for n in made] == [
        (Kind.DOSSIER_STATUS, dossier.code, "submitted"), (Kind.DOSSIER_STATUS, dossier.code, "in_review")]
    text = page(login(client, an_account))
    assert f"Hồ sơ {dossier.code}: Đang xử lý" in text and f"Hồ sơ {dossier.code}: Đã tiếp nhận" in text
    assert "in_review" not in text and "temporary_residence" not in text  # words, not codes
    assert re.search(r'id="bottom-unread-count">.*?2</span>', text, re.S)
    assert re.search(r'id="unread-count">2<', text)


def test_a_fine_reaches_every_account_of_the_owner(client, vehicles, actor_hoan_kiem, an_account):
    decision = traffic_services.confirm_detection(actor=actor_hoan_kiem, pk=ingest().pk, amount=5_000_000,
                                                  reason="Ảnh rõ, đèn đỏ")
    run_worker()
    note = Notification.objects.get(account=an_account)
    assert note.kind == Kind.FINE_ISSUED and note.subject == decision.number
    text = page(login(client, an_account))
    assert decision.number in text and "5.000.000 ₫" in text and decision.due_on.strftime("%d/%m/%Y") in text
    assert "/phat-nguoi/cua-toi/" in client.get(f"/thong-bao/{note.pk}/")["Location"]


def test_a_consent_request_reaches_the_person_and_the_guardian_of_a_ward(client, family, an_account, binh_account):
    khoi_account = make_account(family["khoi"], level=1)
    Guardianship.objects.create(guardian=an_account, ward=khoi_account, kind="parent", valid_from=timezone.localdate())
    _agency, subsystem, _key = make_bank()
    for person in (family["binh"], family["khoi"]):
        exchange_services.request_consent(subsystem=subsystem, rc=rc(), id_number=person.id_number,
                                          fields=["blood_type"], valid_until=timezone.now() + timedelta(days=30))
    run_worker()
    assert Notification.objects.filter(account=binh_account, kind=Kind.CONSENT_REQUESTED).count() == 1
    assert Notification.objects.filter(account=an_account, kind=Kind.CONSENT_REQUESTED).count() == 1  # for Khôi
    assert Notification.objects.filter(account=khoi_account).count() == 1
    text = page(login(client, binh_account))
    assert "Ngân hàng thử nghiệm xin bạn đồng ý chia sẻ dữ liệu" in text and "Mở tài khoản thanh toán" in text
    assert "blood_type" not in text


def test_each_consumer_writes_once_per_event_however_often_it_runs(vehicles, actor_hoan_kiem, an_account,
                                                                     family, binh_account):
    submit(an_account)
    traffic_services.confirm_detection(actor=actor_hoan_kiem, pk=ingest().pk, amount=5_000_000, reason="Ảnh rõ")
    _agency, subsystem, _key = make_bank()
    exchange_services.request_consent(subsystem=subsystem, rc=rc(), id_number=family["binh"].id_number,
                                      fields=["blood_type"], valid_until=timezone.now() + timedelta(days=30))
    run_worker()
    before = Notification.objects.count()
    assert before == 3
    handlers = {"dossier.state_changed": notify_dossier_state, "traffic.fine_issued": notify_fine_issued,
                "exchange.consent_requested": notify_consent_requested}
    for event in OutboxEvent.objects.filter(topic__in=handlers):
        handlers[event.topic].call(event.pk)  # a crash after the write: the task runs again
    first = OutboxEvent.objects.order_by("pk").first()
    assert first is not None
    assert outbox.replay(from_id=first.pk, consumers=[t.module_path for t in handlers.values()]) == 3
    run_worker()
    assert Notification.objects.count() == before


def test_a_counter_dossier_without_an_account_tells_nobody(family, actor_hoan_kiem):
    dossiers.receive_dossier(
        procedure=get_procedure("temporary_residence"),
        subject=family["an"], applicant=None, on_behalf_of=None, channel="counter",
        data={k: v for k, v in form_data().items() if k in {"commune_code", "address", "valid_from", "valid_until"}},
        files=[], idempotency_key="counter-1", actor_label="Cán bộ", actor_unit="Phường Hoàn Kiếm")
    assert not OutboxEvent.objects.filter(topic="dossier.state_changed").exists()


# --- the owner only ------------------------------------------------------------------------------
def test_a_citizen_sees_reads_and_opens_only_their_own(client, an_account, binh_account, actor_hoan_kiem):
    dossier = submit(an_account)
    run_worker()
    mine = Notification.objects.get(account=an_account)
    other = login(Client(), binh_account)
    assert dossier.code not in page(other)
    assert other.get(f"/thong-bao/{mine.pk}/").status_code == 404
    assert other.post("/thong-bao/", {"notification": mine.pk}).status_code == 302
    other.post("/thong-bao/", {})  # "mark all read" is Bình's all, never An's
    mine.refresh_from_db()
    assert mine.read_at is None
    an = login(client, an_account)
    response = an.get(f"/thong-bao/{mine.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/dich-vu-cong/ho-so/{dossier.code}/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "bottom-unread-count" not in page(an)


def test_mark_one_read_then_all(client, an_account, actor_hoan_kiem):
    dossier = submit(an_account)
    dossiers.claim(actor=actor_hoan_kiem, code=dossier.code)
    run_worker()
    first, second = Notification.objects.filter(account=an_account).order_by("pk")
    an = login(client, an_account)
    an.post("/thong-bao/", {"notification": first.pk})
    assert Notification.objects.filter(account=an_account, read_at__isnull=True).get() == second
    an.post("/thong-bao/", {})
    assert not Notification.objects.filter(account=an_account, read_at__isnull=True).exists()


def test_pages_need_a_citizen_login(client, an_account, officer_hoan_kiem):
    for path in ("/thong-bao/", "/thong-bao/1/"):
        assert "dang-nhap" in client.get(path)["Location"]
    client.force_login(officer_hoan_kiem)
    assert client.get("/thong-bao/").status_code == 302  # staff have no citizen account


def test_english_reader_gets_english_words(client, an_account, actor_hoan_kiem):
    dossier = submit(an_account)
    run_worker()
    an = login(client, an_account)
    an.post("/i18n/setlang/", {"language": "en", "next": "/thong-bao/"})
    text = page(an)
    assert "Notifications" in text and f"Dossier {dossier.code}" in text


def test_opening_the_page_a_notification_points_to_reads_it(client, vehicles, actor_hoan_kiem, an_account, family):
    """The dossier page, the fines page and the consent requests page read their notifications,
    as the bottom bar's count expects; another dossier's stay unread."""
    first, second = submit(an_account), submit(an_account)
    traffic_services.confirm_detection(actor=actor_hoan_kiem, pk=ingest().pk, amount=5_000_000, reason="Ảnh rõ")
    _agency, subsystem, _key = make_bank()
    exchange_services.request_consent(subsystem=subsystem, rc=rc(), id_number=family["an"].id_number,
                                      fields=["blood_type"], valid_until=timezone.now() + timedelta(days=30))
    run_worker()
    unread = Notification.objects.filter(account=an_account, read_at__isnull=True)
    assert unread.count() == 4
    an = login(client, an_account)
    page(an, f"/dich-vu-cong/ho-so/{first.code}/")
    assert set(unread.values_list("subject", flat=True)) == {second.code} | set(
        Notification.objects.exclude(kind=Kind.DOSSIER_STATUS).values_list("subject", flat=True))
    page(an, "/phat-nguoi/cua-toi/")
    page(an, "/chia-se/dong-y/")
    assert list(unread.values_list("subject", flat=True)) == [second.code]
