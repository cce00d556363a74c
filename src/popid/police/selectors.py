"""Reads of police data. Reports and cases are cut to the officer's unit; a secret case only to
its assigned investigators; every opening of a case file is kept for the supervisor's audit; every
look-up of a person for a case goes to the access log with the case number as its purpose,
hidden from the person until the case's ``sealed_until``."""

from __future__ import annotations

import hashlib

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from popid.core.access import AccessContext, Actor, record_access
from popid.core.admin_units import communes_by_province, province_of_commune
from popid.core.errors import ValidationFailed
from popid.core.id_numbers import is_valid_id_number
from popid.core.models import ScopeLevel
from popid.core.permissions import Permission
from popid.police.errors import CaseNotFound, ReportNotFound
from popid.police.models import Case, CaseOpening, Confidentiality, Report
from popid.registry.models import Person

CASE_LEGAL_BASIS = "BLTTHS 2015, Điều 145, 147"
PERSON_FIELDS = ("full_name", "birth_date", "sex", "id_number", "commune_code")


def covers_unit(actor: Actor, unit_code: str) -> bool:
    """A commune unit handles its own reports; the province unit handles its communes' and its own."""
    if actor.is_citizen:
        return False
    if actor.level == ScopeLevel.NATION:
        return True
    if actor.level == ScopeLevel.COMMUNE:
        return unit_code == actor.unit_code
    return unit_code == actor.unit_code or province_of_commune(unit_code) == actor.unit_code


def _unit_q(actor: Actor, field: str = "unit_code") -> Q:
    """Queryset filter for ``covers_unit``."""
    if actor.is_citizen:
        return Q(pk__in=[])
    if actor.level == ScopeLevel.NATION:
        return Q()
    if actor.level == ScopeLevel.COMMUNE:
        return Q(**{field: actor.unit_code})
    communes = [unit.code for unit in communes_by_province().get(actor.unit_code, [])]
    return Q(**{field: actor.unit_code}) | Q(**{f"{field}__in": communes})


# --- reports -------------------------------------------------------------------------------------
def report_queue(*, actor: Actor, state: str = "") -> QuerySet[Report]:
    qs = Report.objects.filter(_unit_q(actor)).select_related("assigned_to").order_by("received_at")
    return qs.filter(state=state) if state else qs


def report_for_officer(*, actor: Actor, code: str, for_update: bool = False) -> Report:
    qs = Report.objects.select_for_update() if for_update else Report.objects.all()
    report = qs.filter(code=code).first()
    if report is None or not covers_unit(actor, report.unit_code):
        raise ReportNotFound()  # another unit's report looks exactly like a missing one
    return report


def hash_code(code: str) -> str:
    """Only this digest of a tracking code is stored."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def report_by_tracking_code(code: str) -> Report:
    """The reporter's view by tracking code; a wrong code reveals nothing (not even that it is wrong
    in a different way from a malformed one)."""
    report = Report.objects.filter(tracking_hash=hash_code(code)).first() if 16 <= len(code.strip()) <= 64 else None
    if report is None:
        raise ReportNotFound()
    return report


def reports_of_account(account) -> QuerySet[Report]:
    return Report.objects.filter(reporter_account=account).order_by("-received_at")


def report_of_account(account, code: str) -> Report:
    report = Report.objects.filter(reporter_account=account, code=code).first()
    if report is None:
        raise ReportNotFound()
    return report


# --- cases ---------------------------------------------------------------------------------------
def may_open_case(actor: Actor, case: Case) -> bool:
    if not covers_unit(actor, case.unit_code):
        return False
    if case.confidentiality == Confidentiality.SECRET:
        return actor.user_id is not None and case.investigators.filter(pk=actor.user_id).exists()
    return True


def case_for(*, actor: Actor, number: str, record: bool = True) -> Case:
    """Open one case file. Refused openings are recorded too (the supervisor sees attempts)."""
    case = Case.objects.filter(number=number).first()
    if case is None:
        raise CaseNotFound()
    allowed = may_open_case(actor, case)
    if record or not allowed:
        CaseOpening.objects.create(case=case, actor=actor.label, actor_unit=actor.unit_name or actor.unit_code,
                                   allowed=allowed)
    if not allowed:
        raise CaseNotFound()
    return case


def cases_for(*, actor: Actor) -> list[Case]:
    """The cases the officer may see: their unit's normal cases and the secret ones assigned to them."""
    qs = Case.objects.filter(_unit_q(actor)).order_by("-opened_at")
    visible = Q(confidentiality=Confidentiality.NORMAL)
    if actor.user_id is not None:
        visible |= Q(investigators=actor.user_id)
    return list(qs.filter(visible).distinct())


def person_for_case(*, actor: Actor, case: Case, id_number: str) -> Person:
    """Look a person up for a case: the access log gets the case number as the purpose, sealed
    (hidden from the person) until the case's ``sealed_until``."""
    id_number = (id_number or "").strip()
    person = Person.objects.filter(id_number=id_number).first() if is_valid_id_number(id_number) else None
    if person is None:
        raise ValidationFailed([{"field": "id_number", "reason": "unknown_person",
                                 "message": _("Không có công dân mang số định danh này")}])
    ctx = AccessContext(actor=actor, purpose=f"Giải quyết vụ việc {case.number}", legal_basis=CASE_LEGAL_BASIS,
                        channel="console", hidden_until=case.sealed_until)
    record_access(ctx=ctx, person_id_numbers=[person.id_number], fields=PERSON_FIELDS)
    return person


def case_openings(*, actor: Actor, limit: int = 500) -> list[CaseOpening]:
    """Supervisor's audit: who opened which case file (allowed or refused)."""
    actor.require(Permission.POLICE_AUDIT)
    return list(CaseOpening.objects.select_related("case").filter(_unit_q(actor, "case__unit_code"))[:limit])
