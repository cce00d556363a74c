"""Absence declaration (khai báo tạm vắng): the registry command writes the absence status, a
history entry and an outbox event in one transaction; bad input and other units change nothing;
approving an absence-declaration dossier runs it in the approval's transaction."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from popid.core.access import Actor
from popid.core.errors import ValidationFailed
from popid.registry import services as registry
from popid.registry.errors import ImpossibleDate, PersonNotFound
from popid.registry.models import HistoryEntry, OutboxEvent, Person
from popid.services import dossiers
from popid.services.models import Dossier, DossierState
from tests.services.test_services_workflow import make_account


def _declare(actor, person, **overrides):
    args = {"id_number": person.id_number, "absent_from": date.today(),
            "absent_until": date.today() + timedelta(days=400), "destination": "Đà Nẵng",
            "reason": "Đi làm việc dài hạn"}
    args.update(overrides)
    return registry.declare_absence(actor=actor, **args)


def test_declaration_sets_status_and_writes_history_and_outbox(family, actor_hoan_kiem):
    an = family["an"]
    until = date.today() + timedelta(days=400)
    person = _declare(actor_hoan_kiem, an, absent_until=until)
    stored = Person.objects.get(pk=an.pk)
    assert stored.absence_status == "Tạm vắng: Đà Nẵng" and stored.absence_until == until
    assert stored.version == an.version + 1 == person.version
    entry = HistoryEntry.objects.get(person=an, command="declare_absence")
    assert entry.actor == "cb.hoankiem" and entry.legal_ref == "Luật Cư trú 2020, Điều 31"
    assert entry.before == {"absence_status": "", "absence_until": None}
    assert entry.after["absence_until"] == until.isoformat() and entry.after["destination"] == "Đà Nẵng"
    event = OutboxEvent.objects.get(topic="absence.declared", aggregate_id=an.id_number)
    assert event.payload["absent_until"] == until.isoformat() and event.payload["commune_code"] == "00070"


@pytest.mark.parametrize(("overrides", "error"), [
    ({"absent_until": date.today() - timedelta(days=1), "absent_from": date.today() - timedelta(days=30)},
     ImpossibleDate),
    ({"absent_until": date.today()}, ImpossibleDate),
    ({"absent_until": date.today() + timedelta(days=12 * 366)}, ImpossibleDate),
    ({"destination": "  "}, ValidationFailed),
    ({"reason": ""}, ValidationFailed),
])
def test_bad_input_changes_nothing(family, actor_hoan_kiem, overrides, error):
    an = family["an"]
    with pytest.raises(error):
        _declare(actor_hoan_kiem, an, **overrides)
    assert Person.objects.get(pk=an.pk).absence_status == ""
    assert not HistoryEntry.objects.filter(command="declare_absence").exists()
    assert not OutboxEvent.objects.filter(topic="absence.declared").exists()


def test_officer_of_another_unit_cannot_declare(family, actor_hcm):
    with pytest.raises(PersonNotFound):
        _declare(actor_hcm, family["an"])
    assert not HistoryEntry.objects.filter(command="declare_absence").exists()


def test_approving_the_dossier_records_the_absence(family, actor_hoan_kiem):
    account = make_account(family["binh"])
    until = date.today() + timedelta(days=200)
    dossier, _created = dossiers.submit_dossier(account=account, procedure_code="absence_declaration", data={
        "reason": "Học tập", "destination": "TP Huế", "absent_from": date.today().isoformat(),
        "absent_until": until.isoformat()})
    assert dossier.commune_code == "00070"  # processed where Bình resides
    dossier = dossiers.claim(actor=actor_hoan_kiem, code=dossier.code, expected_version=dossier.version)
    dossiers.approve(actor=actor_hoan_kiem, code=dossier.code, expected_version=dossier.version)
    binh = Person.objects.get(pk=family["binh"].pk)
    assert binh.absence_status == "Tạm vắng: TP Huế" and binh.absence_until == until
    entry = HistoryEntry.objects.get(person=binh, command="declare_absence")
    assert dossier.code in entry.reason
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.APPROVED


def test_a_refused_command_rolls_the_approval_back(family, actor_hoan_kiem):
    account = make_account(family["binh"])
    dossier, _created = dossiers.submit_dossier(account=account, procedure_code="absence_declaration", data={
        "reason": "Học tập", "destination": "TP Huế", "absent_from": "2020-01-01", "absent_until": "2020-06-01"})
    dossier = dossiers.claim(actor=actor_hoan_kiem, code=dossier.code, expected_version=dossier.version)
    with pytest.raises(ImpossibleDate):
        dossiers.approve(actor=actor_hoan_kiem, code=dossier.code, expected_version=dossier.version)
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.IN_REVIEW
    assert Person.objects.get(pk=family["binh"].pk).absence_status == ""


def test_system_actor_is_recorded_with_its_label(family):
    _declare(Actor.system("ket-noi"), family["khoi"])
    assert HistoryEntry.objects.get(command="declare_absence").actor == "ket-noi"
