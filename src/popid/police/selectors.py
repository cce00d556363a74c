"""Reads of police data. Reports and cases are cut to the officer's unit; a secret case only to
its assigned investigators; every opening of a case file is kept for the supervisor's audit; every
look-up of a person for a case goes to the access log with the case number as its purpose,
hidden from the person until the case's ``sealed_until``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from popid.core import fulltext
from popid.core.access import AccessContext, Actor, record_access
from popid.core.admin_units import communes_by_province, is_active_commune, province_of_commune
from popid.core.errors import ValidationFailed
from popid.core.id_numbers import is_valid_id_number
from popid.core.models import AccessRecord, Role, ScopeLevel
from popid.core.permissions import Permission
from popid.police import linking
from popid.police.errors import CaseNotFound, ReportNotFound
from popid.police.models import (
    Case,
    CaseDocument,
    CaseEvent,
    CaseNote,
    CaseOpening,
    Confidentiality,
    CustodyRecord,
    Report,
    ReportEvent,
)

if TYPE_CHECKING:
    from popid.identity.models import CitizenAccount
from popid.registry.models import Person

CASE_LEGAL_BASIS = "BLTTHS 2015, Điều 145, 147"
CASE_PURPOSE_PREFIX = "Giải quyết vụ việc "
PERSON_FIELDS = ("full_name", "birth_date", "sex", "id_number", "commune_code")
CANDIDATE_FIELDS = ("full_name", "birth_year", "id_number", "commune_code")
REPORT_ACTIONS = {
    "received": gettext_lazy("Tiếp nhận tin báo"), "classified": gettext_lazy("Phân loại"),
    "assigned": gettext_lazy("Phân công"), "transferred": gettext_lazy("Chuyển Công an tỉnh"),
    "extended": gettext_lazy("Gia hạn giải quyết (Điều 147)"), "decided": gettext_lazy("Kết quả giải quyết"),
    "case_opened": gettext_lazy("Lập hồ sơ vụ việc"),
}
CASE_ACTIONS = {
    "opened": gettext_lazy("Lập hồ sơ vụ việc"), "investigator": gettext_lazy("Phân công điều tra viên"),
    "person_linked": gettext_lazy("Liên kết người tham gia"), "transferred": gettext_lazy("Chuyển Công an tỉnh"),
    "closed": gettext_lazy("Đóng hồ sơ vụ việc"),
}


def covers_unit(actor: Actor, unit_code: str) -> bool:
    """A commune unit handles its own reports; the province unit handles its communes' and its own."""
    if actor.is_citizen:
        return False
    if actor.level == ScopeLevel.NATION:
        return True
    if actor.level == ScopeLevel.COMMUNE:
        return unit_code == actor.unit_code
    return unit_code == actor.unit_code or province_of_commune(unit_code) == actor.unit_code


def unit_q(actor: Actor, field: str = "unit_code") -> Q:
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
    qs = Report.objects.filter(unit_q(actor)).select_related("assigned_to").order_by("received_at")
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


def reports_of_account(account: CitizenAccount) -> QuerySet[Report]:
    return Report.objects.filter(reporter_account=account).order_by("-received_at")


def report_of_account(account: CitizenAccount, code: str) -> Report:
    report = Report.objects.filter(reporter_account=account, code=code).first()
    if report is None:
        raise ReportNotFound()
    return report


# --- cases ---------------------------------------------------------------------------------------
def may_open_case(actor: Actor, case: Case) -> bool:
    """Officers of the handling unit (or above it); a secret case only its assigned investigators
    and the supervisors over the unit."""
    if not covers_unit(actor, case.unit_code):
        return False
    if case.confidentiality == Confidentiality.SECRET and actor.role != Role.SUPERVISOR:
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


def visible_cases(actor: Actor) -> QuerySet[Case]:
    """The cases the officer may open (``may_open_case`` as a query): their unit's normal cases, the
    secret ones assigned to them, and for a supervisor every case of the units they oversee. No
    join on the investigators (a subquery), so no duplicates and no DISTINCT."""
    qs = Case.objects.filter(unit_q(actor))
    if actor.role == Role.SUPERVISOR:
        return qs
    visible = Q(confidentiality=Confidentiality.NORMAL)
    if actor.user_id is not None:
        assigned = Case.investigators.through.objects.filter(user_id=actor.user_id).values("case_id")
        visible |= Q(pk__in=assigned)
    return qs.filter(visible)


def cases_for(*, actor: Actor) -> list[Case]:
    """The cases the officer may see, newest first."""
    return list(visible_cases(actor).order_by("-opened_at", "-id"))


# --- free-text search ------------------------------------------------------------------------------
def search_reports(*, actor: Actor, words: list[str]) -> QuerySet[Report]:
    """Reports of the officer's units containing every word (``core.fulltext.query_words``) in
    their accent-free ``search_text`` (``police.searchtext.report_text``): GIN-indexed tsvector on
    PostgreSQL, substrings on SQLite. No limit: the caller orders and pages."""
    qs = Report.objects.filter(unit_q(actor))
    if words:
        qs = qs.filter(fulltext.words_filter(words, column="search_text", tsv_sql="police_report.search_tsv"))
    return qs


def search_cases(*, actor: Actor, words: list[str]) -> QuerySet[Case]:
    """Case files the officer may open (``visible_cases``: unit, secret cases) containing every word
    in their ``search_text`` (``police.searchtext.case_text``). No limit: the caller orders and pages."""
    qs = visible_cases(actor)
    if words:
        qs = qs.filter(fulltext.words_filter(words, column="search_text", tsv_sql="police_case.search_tsv"))
    return qs


def person_for_case(*, actor: Actor, case: Case, id_number: str) -> Person:
    """Look a person up for a case: the access log gets the case number as the purpose, sealed
    (hidden from the person) until the case's ``sealed_until``."""
    id_number = (id_number or "").strip()
    person = Person.objects.filter(id_number=id_number).first() if is_valid_id_number(id_number) else None
    if person is None:
        raise ValidationFailed([{"field": "id_number", "reason": "unknown_person",
                                 "message": _("Không có công dân mang số định danh này")}])
    record_access(ctx=case_context(actor, case), person_id_numbers=[person.id_number], fields=PERSON_FIELDS)
    return person


def case_purpose(case: Case) -> str:
    return f"{CASE_PURPOSE_PREFIX}{case.number}"


def case_context(actor: Actor, case: Case, *, channel: str = "console") -> AccessContext:
    """Every look-up of a person for ``case``: the case number as purpose, sealed until the case
    closes (``services.close_case`` reveals it) or, at the latest, ``case.sealed_until``."""
    return AccessContext(actor=actor, purpose=case_purpose(case), legal_basis=CASE_LEGAL_BASIS,
                         channel=channel, hidden_until=case.sealed_until)


def person_candidates(*, actor: Actor, case: Case, full_name: str, birth_year: int | None,
                      commune_code: str = "") -> list[linking.Candidate]:
    """Registry persons who may be the one named (name + birth year, perhaps the commune), ranked
    by the matcher. Every candidate shown is a look-up for the case (sealed like the others)."""
    errors = []
    name = " ".join((full_name or "").split())
    if len(name) < 2 or len(name) > 150:
        errors.append({"field": "full_name", "reason": "invalid", "message": _("Cần họ và tên (2–150 ký tự)")})
    this_year = timezone.localdate().year
    if birth_year is None or not 1900 <= birth_year <= this_year:
        errors.append({"field": "birth_year", "reason": "invalid",
                       "message": _("Năm sinh phải từ 1900 đến %(year)d") % {"year": this_year}})
    commune_code = (commune_code or "").strip()
    if commune_code and not is_active_commune(commune_code):
        errors.append({"field": "commune_code", "reason": "unknown", "message": _("Xã/phường không tồn tại")})
    if errors:
        raise ValidationFailed(errors)
    assert birth_year is not None
    candidates = linking.rank(linking.Query(full_name=name, birth_year=birth_year, commune_code=commune_code))
    record_access(ctx=case_context(actor, case), person_id_numbers=[c.person.id_number for c in candidates],
                  fields=CANDIDATE_FIELDS)
    return candidates


def case_lookups(case: Case) -> QuerySet[AccessRecord]:
    """The access records of the person look-ups made for ``case``."""
    return AccessRecord.objects.filter(purpose=case_purpose(case))


# --- timeline ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # report, case, person, custody, note, document
    actor: str
    text: str


def case_timeline(case: Case) -> list[TimelineItem]:
    """One time-ordered list of everything that happened: the report's steps (received,
    classified, assigned, transferred, extended, outcome), the case's own events, persons linked,
    evidence seized and handed over, notes and documents."""
    items: list[TimelineItem] = []
    if case.report_id:
        for event in ReportEvent.objects.filter(report_id=case.report_id):
            text = " · ".join(str(t) for t in (REPORT_ACTIONS.get(event.action, event.action), event.public_text,
                                               event.internal_note) if t)
            items.append(TimelineItem(event.at, "report", event.actor, text))
    for ce in CaseEvent.objects.filter(case=case):
        items.append(TimelineItem(ce.at, "case", ce.actor,
                                  " · ".join(str(t) for t in (CASE_ACTIONS.get(ce.action, ce.action), ce.detail) if t)))
    for record in CustodyRecord.objects.filter(item__case=case).select_related("item"):
        text = _("Vật chứng %(label)s: %(from)s → %(to)s (%(purpose)s)") % {
            "label": record.item.label, "from": record.from_holder or _("thu giữ"), "to": record.to_holder,
            "purpose": record.purpose}
        items.append(TimelineItem(record.at, "custody", record.recorded_by, text))
    for note in CaseNote.objects.filter(case=case):
        items.append(TimelineItem(note.at, "note", note.author, note.text))
    for doc in CaseDocument.objects.filter(case=case).only("at", "uploaded_by", "title", "kind", "sha256"):
        items.append(TimelineItem(doc.at, "document", doc.uploaded_by,
                                  _("Tài liệu: %(title)s (%(kind)s)") % {"title": doc.title,
                                                                         "kind": doc.get_kind_display()}))
    items.sort(key=lambda item: item.at)
    return items


def case_document(*, actor: Actor, number: str, pk: int) -> CaseDocument:
    case = case_for(actor=actor, number=number, record=False)
    document = CaseDocument.objects.filter(case=case, pk=pk).first()
    if document is None:
        raise CaseNotFound()
    return document


def case_openings(*, actor: Actor, limit: int = 500) -> list[CaseOpening]:
    """Supervisor's audit: who opened which case file (allowed or refused)."""
    actor.require(Permission.POLICE_AUDIT)
    return list(CaseOpening.objects.select_related("case").filter(unit_q(actor, "case__unit_code"))[:limit])


def case_person_lookups(*, actor: Actor, limit: int = 500) -> list[AccessRecord]:
    """Supervisor's audit, from the access log: every look-up of a person made for a case of the
    supervisor's jurisdiction (who, whom, when, for which case, sealed until when)."""
    actor.require(Permission.POLICE_AUDIT)
    numbers = list(Case.objects.filter(unit_q(actor)).order_by("-opened_at").values_list("number", flat=True)[:2000])
    purposes = [f"{CASE_PURPOSE_PREFIX}{n}" for n in numbers]
    if not purposes:
        return []
    return list(AccessRecord.objects.filter(purpose__in=purposes).order_by("-at", "-id")[:limit])
