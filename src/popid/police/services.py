"""Commands of police operations: a report filed by a citizen (logged in or anonymous) or
recorded by an officer; classification, assignment, transfer to the province, deadline
extensions and outcomes (Criminal Procedure Code 2015, art. 147-148); case files with persons
linked to the registry, and evidence with a hash-chained chain of custody.

Every command validates everything before writing and runs in one transaction, so bad input
changes nothing."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core import admin_units
from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.ledger.services import reveal_hidden
from popid.police import searchtext, selectors
from popid.police.catalogue import categories, outcomes
from popid.police.errors import CaseClosed, InvalidReportState
from popid.police.models import (
    Case,
    CaseDocument,
    CaseEvent,
    CaseNote,
    CasePerson,
    Channel,
    Confidentiality,
    CustodyRecord,
    DocumentKind,
    EvidenceItem,
    LinkMethod,
    PersonRole,
    Report,
    ReportAttachment,
    ReportEvent,
    ReportState,
)

if TYPE_CHECKING:
    from popid.identity.models import CitizenAccount
    from popid.registry.models import Person

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
MIN_DESCRIPTION = 20
MAX_DESCRIPTION = 10_000
MAGIC = {"application/pdf": (b"%PDF-",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}
# Art. 147(1): 20 days from receipt; (2) extension up to 2 months; (3) a further extension up to 2 months.
BASE_DAYS = 20
EXTENSION_MONTHS = 2
MAX_EXTENSIONS = 2
SEAL_MONTHS = 4  # look-ups for a case stay hidden from the person for this long after the case opens
OPEN_STATES = {ReportState.RECEIVED, ReportState.CLASSIFIED, ReportState.ASSIGNED, ReportState.TRANSFERRED}


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    content: bytes


hash_code = selectors.hash_code


def deadline(report: Report) -> date:
    """The art. 147 deadline for resolving the report, after the extensions granted so far."""
    received = timezone.localdate(report.received_at)
    if report.extensions == 0:
        return received + timedelta(days=BASE_DAYS)
    extended: date = received + relativedelta(months=EXTENSION_MONTHS * report.extensions)
    return extended


def check_attachment_sizes(sizes: list[tuple[str, int]]) -> None:
    """Refuse by declared size before anything is read (a 100 MB upload is never loaded)."""
    errors = []
    if len(sizes) > MAX_ATTACHMENTS:
        errors.append({"field": "attachments", "reason": "too_many",
                       "message": _("Tối đa %(n)d tệp đính kèm") % {"n": MAX_ATTACHMENTS}})
    for name, size in sizes:
        if size > MAX_ATTACHMENT_BYTES:
            errors.append({"field": "attachments", "reason": "too_large",
                           "message": _("Tệp %(name)s vượt quá %(mb)d MB") % {
                               "name": name[:80], "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}})
    if errors:
        raise ValidationFailed(errors)


def _validate_report(*, category_code: str, commune_code: str, occurred_at: datetime | None, description: str,
                     latitude: Decimal | None, longitude: Decimal | None, attachments: list[Attachment]) -> None:
    errors = []
    if category_code not in categories():
        errors.append({"field": "category_code", "reason": "unknown",
                       "message": _("Loại tin báo không có trong danh mục")})
    if not admin_units.is_active_commune(commune_code or ""):
        errors.append({"field": "commune_code", "reason": "unknown", "message": _("Xã/phường không tồn tại")})
    if occurred_at is None:
        errors.append({"field": "occurred_at", "reason": "required", "message": _("Cần nêu thời gian xảy ra")})
    elif occurred_at > timezone.now() + timedelta(minutes=5):
        errors.append({"field": "occurred_at", "reason": "future", "message": _("Thời gian xảy ra ở tương lai")})
    text = (description or "").strip()
    if len(text) < MIN_DESCRIPTION:
        errors.append({"field": "description", "reason": "too_short",
                       "message": _("Cần mô tả sự việc (ít nhất %(n)d ký tự)") % {"n": MIN_DESCRIPTION}})
    elif len(text) > MAX_DESCRIPTION:
        errors.append({"field": "description", "reason": "too_long", "message": _("Mô tả quá dài")})
    if (latitude is None) != (longitude is None):
        errors.append({"field": "latitude", "reason": "incomplete", "message": _("Cần cả vĩ độ và kinh độ")})
    elif latitude is not None and longitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        errors.append({"field": "latitude", "reason": "out_of_range", "message": _("Tọa độ không hợp lệ")})
    try:
        check_attachment_sizes([(a.name, len(a.content)) for a in attachments])
    except ValidationFailed as exc:
        errors.extend(exc.errors())
    for item in attachments:
        if not any(item.content.startswith(m) for m in MAGIC.get(item.content_type, ())):
            errors.append({"field": "attachments", "reason": "bad_type",
                           "message": _("Tệp %(name)s không phải PDF, PNG hoặc JPEG") % {"name": item.name[:80]}})
    if errors:
        raise ValidationFailed(errors)


def _new_report_code() -> str:
    today = timezone.localdate().strftime("%Y%m%d")
    while True:
        code = f"TG-{today}-{secrets.randbelow(10**6):06d}"
        if not Report.objects.filter(code=code).exists():
            return code


def _event(report: Report, actor: str, action: str, *, public_text: str = "", note: str = "") -> None:
    """A step of the report's timeline; every report command writes exactly one, so the report's
    search text (which includes the officers' notes) is refreshed here."""
    ReportEvent.objects.create(report=report, actor=actor, action=action, public=bool(public_text),
                               public_text=public_text, internal_note=note)
    _refresh_report_search(report)


def _refresh_report_search(report: Report) -> None:
    report.search_text = searchtext.report_text(report)
    Report.objects.filter(pk=report.pk).update(search_text=report.search_text)


def _refresh_case_search(case: Case) -> None:
    """After every write that changes what a case file says (opened, note, document, evidence)."""
    case.search_text = searchtext.case_text(case)
    Case.objects.filter(pk=case.pk).update(search_text=case.search_text)


def submit_report(*, account: CitizenAccount | None = None, anonymous: bool = False, category_code: str,
                  commune_code: str, occurred_at: datetime | None, description: str, latitude: Decimal | None = None,
                  longitude: Decimal | None = None, attachments: Sequence[Attachment] = (),
                  channel: str = Channel.ONLINE, recorded_by: Actor | None = None) -> tuple[Report, str]:
    """File a report; returns it and the tracking code (shown once, only its hash is stored).
    ``account`` is the citizen's identity account, None for anonymous reports and for reports an
    officer records at the counter or by phone (``recorded_by``)."""
    attachment_list = list(attachments)
    if recorded_by is not None:
        recorded_by.require_write()
        if not recorded_by.covers_commune(commune_code):
            raise PermissionDenied(_("Xã/phường ngoài địa bàn của đơn vị"))
    _validate_report(category_code=category_code, commune_code=commune_code, occurred_at=occurred_at,
                     description=description, latitude=latitude, longitude=longitude, attachments=attachment_list)
    assert occurred_at is not None  # _validate_report refuses a report without it
    tracking = secrets.token_urlsafe(24)
    with transaction.atomic():
        report = Report.objects.create(
            code=_new_report_code(), tracking_hash=hash_code(tracking), channel=channel,
            reporter_account=None if anonymous else account, anonymous=anonymous or account is None,
            category_code=category_code, commune_code=commune_code, latitude=latitude, longitude=longitude,
            occurred_at=occurred_at, description=description.strip(), unit_code=commune_code)
        ReportAttachment.objects.bulk_create([
            ReportAttachment(report=report, name=a.name[:200], content_type=a.content_type, size=len(a.content),
                             sha256=hashlib.sha256(a.content).hexdigest(), content=a.content)
            for a in attachment_list])
        who = recorded_by.label if recorded_by else ("anonymous" if report.anonymous else "citizen")
        _event(report, who, "received", public_text=_("Công an xã/phường đã tiếp nhận tin báo"))
    return report, tracking


# --- intake --------------------------------------------------------------------------------------
def _open_report(actor: Actor, code: str, *, version: int | None = None) -> Report:
    actor.require_write()
    report = selectors.report_for_officer(actor=actor, code=code, for_update=True)
    if report.state not in OPEN_STATES:
        raise InvalidReportState(_("Tin báo đã có kết quả giải quyết"))
    if version is not None and report.version != version:
        raise InvalidReportState(_("Tin báo vừa được người khác cập nhật, hãy tải lại trang"))
    return report


def _save(report: Report, *fields: str) -> None:
    report.version += 1
    report.save(update_fields=[*fields, "version"])


@transaction.atomic
def classify(*, actor: Actor, code: str, category_code: str, note: str = "") -> Report:
    report = _open_report(actor, code)
    if category_code not in categories():
        raise ValidationFailed([{"field": "category_code", "reason": "unknown",
                                 "message": _("Loại tin báo không có trong danh mục")}])
    report.category_code = category_code
    if report.state == ReportState.RECEIVED:
        report.state = ReportState.CLASSIFIED
    _save(report, "category_code", "state")
    _event(report, actor.label, "classified", note=note)
    return report


@transaction.atomic
def assign(*, actor: Actor, code: str, username: str) -> Report:
    report = _open_report(actor, code)
    officer = get_user_model().objects.filter(username=username).select_related("staff_role").first()
    officer_actor = None
    if officer is not None:
        try:
            officer_actor = Actor.for_user(officer)
        except PermissionDenied:
            officer_actor = None
    if (officer is None or officer_actor is None or not officer_actor.may_write
            or not selectors.covers_unit(officer_actor, report.unit_code)):
        raise ValidationFailed([{"field": "username", "reason": "not_in_unit",
                                 "message": _("Không có cán bộ này trong đơn vị đang giải quyết tin báo")}])
    report.assigned_to = officer
    report.state = ReportState.ASSIGNED
    _save(report, "assigned_to", "state")
    _event(report, actor.label, "assigned", public_text=_("Tin báo đã được phân công cán bộ giải quyết"),
           note=f"→ {officer.get_username()}")
    return report


@transaction.atomic
def transfer_to_province(*, actor: Actor, code: str, note: str) -> Report:
    report = _open_report(actor, code)
    province = admin_units.province_of_commune(report.unit_code)
    if province is None:
        raise InvalidReportState(_("Tin báo đã do Công an tỉnh giải quyết"))
    report.unit_code = province
    report.state = ReportState.TRANSFERRED
    report.assigned_to = None
    _save(report, "unit_code", "state", "assigned_to")
    case = Case.objects.filter(report=report, closed_at__isnull=True).first()
    if case is not None:  # the open case file goes with the report
        case.unit_code = province
        case.save(update_fields=["unit_code"])
        CaseEvent.objects.create(case=case, actor=actor.label, action="transferred", detail=province)
    _event(report, actor.label, "transferred", public_text=_("Tin báo đã được chuyển Công an tỉnh giải quyết"),
           note=note)
    return report


@transaction.atomic
def extend_deadline(*, actor: Actor, code: str, reason: str) -> Report:
    report = _open_report(actor, code)
    if report.extensions >= MAX_EXTENSIONS:
        raise InvalidReportState(_("Đã gia hạn tối đa theo Điều 147 BLTTHS 2015"))
    if not reason.strip():
        raise ValidationFailed([{"field": "reason", "reason": "required", "message": _("Cần nêu lý do gia hạn")}])
    report.extensions += 1
    _save(report, "extensions")
    _event(report, actor.label, "extended", note=reason)
    return report


@transaction.atomic
def decide(*, actor: Actor, code: str, outcome_code: str, note: str = "") -> Report:
    report = _open_report(actor, code)
    outcome = outcomes().get(outcome_code)
    if outcome is None:
        raise ValidationFailed([{"field": "outcome_code", "reason": "unknown",
                                 "message": _("Kết quả giải quyết không có trong danh mục")}])
    report.outcome_code = outcome.code
    report.outcome_legal_ref = outcome.legal_ref
    report.outcome_at = timezone.now()
    report.state = ReportState.RESOLVED if outcome.closes else ReportState.SUSPENDED
    _save(report, "outcome_code", "outcome_legal_ref", "outcome_at", "state")
    _event(report, actor.label, "decided", public_text=f"{outcome.name} ({outcome.legal_ref})", note=note)
    return report


# --- case files ----------------------------------------------------------------------------------
@transaction.atomic
def open_case(*, actor: Actor, report_code: str, title: str, confidentiality: str = Confidentiality.NORMAL) -> Case:
    report = _open_report(actor, report_code)
    if Case.objects.filter(report=report).exists():
        raise InvalidReportState(_("Tin báo đã có hồ sơ vụ việc"))
    if confidentiality not in Confidentiality.values:
        raise ValidationFailed([{"field": "confidentiality", "reason": "unknown", "message": _("Độ mật không hợp lệ")}])
    if not title.strip():
        raise ValidationFailed([{"field": "title", "reason": "required", "message": _("Cần tên hồ sơ vụ việc")}])
    now = timezone.now()
    sequence = Case.objects.filter(unit_code=report.unit_code, opened_at__year=now.year).count() + 1
    case = Case.objects.create(
        number=f"VV-{report.unit_code}-{now.year}-{sequence:04d}", report=report, title=title.strip()[:300],
        unit_code=report.unit_code, confidentiality=confidentiality,
        sealed_until=now + relativedelta(months=SEAL_MONTHS))
    investigators = {u for u in (report.assigned_to_id, actor.user_id) if u}
    case.investigators.set(investigators)
    _event(report, actor.label, "case_opened", note=case.number)
    CaseEvent.objects.create(case=case, actor=actor.label, action="opened",
                             detail=f"{case.title} ({case.get_confidentiality_display()})")
    _refresh_case_search(case)
    return case


@transaction.atomic
def add_investigator(*, actor: Actor, number: str, username: str) -> Case:
    actor.require_write()
    case = selectors.case_for(actor=actor, number=number, record=False)
    user = get_user_model().objects.filter(username=username).first()
    user_actor = None
    if user is not None:
        try:
            user_actor = Actor.for_user(user)
        except PermissionDenied:
            user_actor = None
    if user is None or user_actor is None or not selectors.covers_unit(user_actor, case.unit_code):
        raise ValidationFailed([{"field": "username", "reason": "not_in_unit",
                                 "message": _("Không có cán bộ này trong đơn vị")}])
    case.investigators.add(user)
    CaseEvent.objects.create(case=case, actor=actor.label, action="investigator", detail=username)
    return case


def _open_case_for_write(actor: Actor, number: str) -> Case:
    actor.require_write()
    case = selectors.case_for(actor=actor, number=number, record=False)
    if case.closed_at is not None:
        raise CaseClosed()
    return case


def _check_role(role: str) -> None:
    if role not in PersonRole.values:
        raise ValidationFailed([{"field": "role", "reason": "unknown", "message": _("Tư cách tham gia không hợp lệ")}])


def _link(case: Case, person: Person, *, actor: Actor, role: str, method: str = LinkMethod.ID_NUMBER,
          query: dict[str, Any] | None = None, probability: float | None = None) -> CasePerson:
    link, created = CasePerson.objects.get_or_create(
        case=case, person=person, role=role,
        defaults={"id_number": person.id_number, "linked_by": actor.label, "method": method,
                  "query": query or {}, "match_probability": probability})
    if created:
        detail = f"{PersonRole(role).label}: {person.full_name} ({person.id_number})"
        if probability is not None:
            detail += f" · {LinkMethod.MATCHER.label}, p = {probability:.3f}"
        CaseEvent.objects.create(case=case, actor=actor.label, action="person_linked", detail=detail[:500])
    return link


@transaction.atomic
def link_person(*, actor: Actor, number: str, id_number: str, role: str) -> CasePerson:
    """Link a registry person to the case by ID number; the look-up is recorded for the case.
    A number no registry person has is refused and nothing is written."""
    case = _open_case_for_write(actor, number)
    _check_role(role)
    person = selectors.person_for_case(actor=actor, case=case, id_number=id_number)
    return _link(case, person, actor=actor, role=role)


@transaction.atomic
def find_candidates(*, actor: Actor, number: str, full_name: str, birth_year: int | None,
                    commune_code: str = "") -> list[Any]:
    """The matcher's candidates for a person of an open case (each shown one a sealed look-up)."""
    case = _open_case_for_write(actor, number)
    return selectors.person_candidates(actor=actor, case=case, full_name=full_name, birth_year=birth_year,
                                       commune_code=commune_code)


@transaction.atomic
def confirm_candidate(*, actor: Actor, number: str, full_name: str, birth_year: int | None, commune_code: str = "",
                      id_number: str, role: str) -> CasePerson:
    """The officer confirms one of the matcher's candidates for a person known by name and birth
    year: the candidates are ranked again (the person must be among them; the probability kept is
    the matcher's, not the client's) and the link records the query and the probability."""
    case = _open_case_for_write(actor, number)
    _check_role(role)
    name = " ".join((full_name or "").split())
    commune_code = (commune_code or "").strip()
    candidates = selectors.person_candidates(actor=actor, case=case, full_name=name, birth_year=birth_year,
                                             commune_code=commune_code)
    chosen = next((c for c in candidates if c.person.id_number == (id_number or "").strip()), None)
    if chosen is None:
        raise ValidationFailed([{"field": "id_number", "reason": "not_a_candidate",
                                 "message": _("Người này không nằm trong danh sách ứng viên đối sánh")}])
    person = selectors.person_for_case(actor=actor, case=case, id_number=chosen.person.id_number)
    return _link(case, person, actor=actor, role=role, method=LinkMethod.MATCHER,
                 query={"full_name": name, "birth_year": birth_year, "commune_code": commune_code},
                 probability=round(chosen.probability, 6))


MAX_NOTE = 10_000


@transaction.atomic
def add_note(*, actor: Actor, number: str, text: str) -> CaseNote:
    case = _open_case_for_write(actor, number)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed([{"field": "text", "reason": "required", "message": _("Cần nội dung ghi chú")}])
    if len(text) > MAX_NOTE:
        raise ValidationFailed([{"field": "text", "reason": "too_long", "message": _("Ghi chú quá dài")}])
    note = CaseNote.objects.create(case=case, author=actor.label, text=text)
    _refresh_case_search(case)
    return note


@transaction.atomic
def add_document(*, actor: Actor, number: str, kind: str, title: str, attachment: Attachment) -> CaseDocument:
    """A document of the case file: PDF, PNG or JPEG by its content (magic bytes, not the name),
    at most ``MAX_ATTACHMENT_BYTES``; its SHA-256 is kept and shown."""
    case = _open_case_for_write(actor, number)
    errors = []
    if kind not in DocumentKind.values:
        errors.append({"field": "kind", "reason": "unknown", "message": _("Loại tài liệu không hợp lệ")})
    title = (title or "").strip()
    if not title:
        errors.append({"field": "title", "reason": "required", "message": _("Cần tên tài liệu")})
    content = attachment.content
    detected: str | None = None
    if len(content) > MAX_ATTACHMENT_BYTES:
        errors.append({"field": "file", "reason": "too_large", "message": _("Tệp vượt quá %(mb)d MB") % {
            "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}})
    elif not content:
        errors.append({"field": "file", "reason": "required", "message": _("Tệp rỗng")})
    else:
        detected = next((t for t, magics in MAGIC.items() if any(content.startswith(m) for m in magics)), None)
        if detected is None:
            errors.append({"field": "file", "reason": "bad_type",
                           "message": _("Tệp %(name)s không phải PDF, PNG hoặc JPEG") % {"name": attachment.name[:80]}})
    if errors or detected is None:
        raise ValidationFailed(errors)
    document = CaseDocument.objects.create(
        case=case, kind=kind, title=title[:200], name=(attachment.name or "tai-lieu")[:200],
        content_type=detected, size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
        uploaded_by=actor.label)
    _refresh_case_search(case)
    return document


@transaction.atomic
def close_case(*, actor: Actor, number: str) -> Case:
    """Close the case and unseal its look-ups: every access record made for it (persons linked,
    candidates shown) gets a reveal in the ledger (``ledger.services.reveal_hidden``), so each
    person's access history shows them now. The records themselves are not changed (append-only)."""
    case = _open_case_for_write(actor, number)
    case.closed_at = timezone.now()
    case.save(update_fields=["closed_at"])
    revealed = reveal_hidden(records=selectors.case_lookups(case), actor=actor.label,
                             reason=f"Kết thúc vụ việc {case.number}")
    CaseEvent.objects.create(case=case, actor=actor.label, action="closed",
                             detail=_("%(n)d lượt tra cứu được công khai với công dân") % {"n": revealed})
    return case


# --- chain of custody ----------------------------------------------------------------------------
GENESIS = "0" * 64


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def custody_hash(record: CustodyRecord, *, case_number: str, label: str) -> str:
    canonical = json.dumps({
        "seq": record.seq, "case": case_number, "item": label, "at": _stamp(record.at),
        "from": record.from_holder, "to": record.to_holder, "purpose": record.purpose,
        "recorded_by": record.recorded_by, "prev": record.prev_hash,
    }, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _append_custody(item: EvidenceItem, *, actor: Actor, from_holder: str, to_holder: str,
                    purpose: str) -> CustodyRecord:
    last = CustodyRecord.objects.select_for_update().order_by("-seq").first()
    record = CustodyRecord(seq=(last.seq + 1) if last else 1, item=item,
                           at=timezone.now(),
                           from_holder=from_holder, to_holder=to_holder, purpose=purpose,
                           recorded_by=actor.label, prev_hash=last.hash if last else GENESIS)
    record.hash = custody_hash(record, case_number=item.case.number, label=item.label)
    record.save(force_insert=True)
    return record


def _holder(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed([{"field": field, "reason": "required",
                                 "message": _("Cần ghi rõ người nhận, giữ vật chứng")}])
    return value[:200]


@transaction.atomic
def record_evidence(*, actor: Actor, number: str, label: str, description: str, holder: str) -> EvidenceItem:
    case = _open_case_for_write(actor, number)
    label, description = (label or "").strip(), (description or "").strip()
    if not label or not description:
        raise ValidationFailed([{"field": "label" if not label else "description", "reason": "required",
                                 "message": _("Cần số hiệu và mô tả vật chứng")}])
    if EvidenceItem.objects.filter(case=case, label=label).exists():
        raise ValidationFailed([{"field": "label", "reason": "duplicate", "message": _("Số hiệu vật chứng đã có")}])
    item = EvidenceItem.objects.create(case=case, label=label[:40], description=description[:500])
    _append_custody(item, actor=actor, from_holder="", to_holder=_holder(holder, "holder"),
                    purpose=_("Thu giữ, lập biên bản"))
    _refresh_case_search(case)
    return item


@transaction.atomic
def hand_over(*, actor: Actor, number: str, label: str, to_holder: str, purpose: str) -> CustodyRecord:
    actor.require_write()
    case = selectors.case_for(actor=actor, number=number, record=False)
    item = EvidenceItem.objects.filter(case=case, label=label).first()
    if item is None:
        raise ValidationFailed([{"field": "label", "reason": "unknown", "message": _("Không có vật chứng này")}])
    last = item.custody.order_by("-seq").first()
    if not (purpose or "").strip():
        raise ValidationFailed([{"field": "purpose", "reason": "required", "message": _("Cần nêu mục đích giao nhận")}])
    return _append_custody(item, actor=actor, from_holder=last.to_holder if last else "",
                           to_holder=_holder(to_holder, "to_holder"), purpose=purpose.strip()[:300])


@dataclass(frozen=True)
class CustodyProblem:
    seq: int
    record_id: int
    reason: str


def verify_custody() -> tuple[int, list[CustodyProblem]]:
    """Recompute the whole chain; each record whose hash or link does not match is named."""
    problems: list[CustodyProblem] = []
    previous, expected_seq, count = GENESIS, 1, 0
    for record in CustodyRecord.objects.select_related("item__case").order_by("seq").iterator(chunk_size=2000):
        count += 1
        if record.seq != expected_seq:
            problems.append(CustodyProblem(record.seq, record.pk, f"missing records before seq {record.seq}"))
        if record.prev_hash != previous:
            problems.append(CustodyProblem(record.seq, record.pk, "prev_hash does not match the previous record"))
        if custody_hash(record, case_number=record.item.case.number, label=record.item.label) != record.hash:
            problems.append(CustodyProblem(record.seq, record.pk, "content does not match its hash"))
        previous, expected_seq = record.hash, record.seq + 1
    return count, problems

