"""Dossier workflow commands. Each is one transaction: it checks who acts (citizen entitlement or
officer jurisdiction), checks the state and the ``version`` (optimistic locking, with the row locked
by ``select_for_update``), changes the dossier and writes a ``DossierEvent``. Approval runs the
procedure's registry command inside the same transaction, so the registry and the dossier never
disagree: if the command raises, nothing is written.

Transitions::

    submitted ──claim──▶ in_review ──approve──▶ approved
        │                  │  ▲  └──reject───▶ rejected
        │                  ▼  │answer_supplement
        │        supplement_requested
        └─(submitted, in_review, supplement_requested) ──cancel (applicant)──▶ cancelled
    submitted ──reject──▶ rejected
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from popid.core import outbox
from popid.core.access import AccessContext, Actor
from popid.core.errors import DomainError, PermissionDenied, ValidationFailed
from popid.core.permissions import Permission
from popid.identity.models import CitizenAccount
from popid.identity.selectors import active_guardianship
from popid.registry import selectors as registry_selectors
from popid.registry import services as registry_services
from popid.registry import validation as v
from popid.registry.models import Person
from popid.services.calendar import (
    LOCAL_TZ,
    add_working_days,
    deadline_for,
    stay_notification_due,
    working_days_between,
)
from popid.services.errors import (
    DossierNotFound,
    IdempotencyMismatch,
    NotEntitled,
    StaleDossier,
    TransitionNotAllowed,
)
from popid.services.models import (
    TOPIC_DOSSIER_STATE,
    Channel,
    Dossier,
    DossierAttachment,
    DossierEvent,
    DossierState,
    Notification,
)
from popid.services.procedures import EXTERNAL_COMMANDS, Procedure, get_procedure
from popid.services.selectors import (
    access_dossier_for_officer,
    permanent_residence,
    prefill_values,
    prefilled_fields,
)

S = DossierState
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAGIC = {"application/pdf": (b"%PDF-",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class IncomingFile:
    kind: str
    name: str
    content: bytes
    content_type: str


# --- validation --------------------------------------------------------------------------------
def _err(field: str, reason: str, message: str) -> dict[str, str]:
    return {"field": field, "reason": reason, "message": str(message)}


def _clean_value(ftype: str, name: str, value: Any) -> tuple[Any, dict[str, str] | None]:
    if ftype in {"string", "text"}:
        if not isinstance(value, str):
            return None, _err(name, "type", _("Phải là chuỗi ký tự"))
        limit = 500 if ftype == "string" else 2000
        if len(value) > limit:
            return None, _err(name, "too_long", _("Tối đa %(n)d ký tự") % {"n": limit})
        return value.strip(), None
    if ftype == "date":
        try:
            return date.fromisoformat(str(value)).isoformat(), None
        except ValueError:
            return None, _err(name, "date", _("Ngày không hợp lệ (YYYY-MM-DD)"))
    if ftype == "datetime":
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None, _err(name, "datetime", _("Thời điểm không hợp lệ (ISO 8601)"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LOCAL_TZ)
        return moment.isoformat(), None
    if ftype == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return None, _err(name, "integer", _("Phải là số nguyên"))
        return value, None
    if ftype == "id_number":
        if not (isinstance(value, str) and len(value) == 12 and value.isdigit()):
            return None, _err(name, "format", _("Số định danh cá nhân gồm đúng 12 chữ số"))
        return value, None
    if ftype == "id_list":
        if not (isinstance(value, list) and value and all(isinstance(i, str) and len(i) == 12 and i.isdigit()
                                                          for i in value)):
            return None, _err(name, "format", _("Danh sách số định danh, mỗi số gồm đúng 12 chữ số"))
        return list(dict.fromkeys(value)), None
    if ftype == "commune":
        try:
            return v.require_commune(str(value), field=name).code, None
        except DomainError as exc:
            return None, _err(name, exc.code, str(exc.detail or exc.title))
    return None, _err(name, "type", _("Kiểu dữ liệu không hỗ trợ"))


def validate_data(procedure: Procedure, data: dict[str, Any]) -> dict[str, Any]:
    """Check the submitted data against the procedure's fields; every problem names its field."""
    if not isinstance(data, dict):
        raise ValidationFailed([_err("data", "type", _("Dữ liệu hồ sơ phải là một đối tượng"))])
    errors, cleaned = [], {}
    known = {f.name for f in procedure.fields}
    for name in data:
        if name not in known:
            errors.append(_err(f"data.{name}", "unknown_field", _("Thủ tục không có trường này")))
    for f in procedure.fields:
        value = data.get(f.name)
        if value is None or value == "" or value == []:
            if f.required:
                errors.append(_err(f"data.{f.name}", "required", _("Cần nhập: %(label)s") % {"label": f.label}))
            continue
        clean, error = _clean_value(f.type, f"data.{f.name}", value)
        if error:
            errors.append(error)
        else:
            cleaned[f.name] = clean
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def check_attachments(procedure: Procedure, files: list[IncomingFile], *, require_all: bool = True) -> None:
    errors = []
    defs = {a.kind: a for a in procedure.attachments}
    for i, item in enumerate(files):
        spec = defs.get(item.kind)
        name = f"attachments[{i}]"
        if spec is None:
            errors.append(_err(name, "unknown_kind", _("Thủ tục không yêu cầu loại giấy tờ này")))
            continue
        if len(item.content) > spec.max_size_kb * 1024:
            errors.append(_err(name, "too_large", _("Tệp vượt quá %(kb)d KB") % {"kb": spec.max_size_kb}))
        elif (item.content_type not in spec.types
              or not any(item.content.startswith(m) for m in MAGIC.get(item.content_type, ()))):
            errors.append(_err(name, "file_type", _("Chỉ chấp nhận: %(types)s") % {"types": ", ".join(spec.types)}))
    if require_all:
        given = {f.kind for f in files}
        for spec in procedure.attachments:
            if spec.required and spec.kind not in given:
                errors.append(_err(f"attachments.{spec.kind}", "required",
                                   _("Cần đính kèm: %(label)s") % {"label": spec.label}))
    if errors:
        raise ValidationFailed(errors)


def _store_attachments(dossier: Dossier, files: list[IncomingFile]) -> None:
    for item in files:
        attachment = DossierAttachment(dossier=dossier, kind=item.kind, original_name=item.name[:200],
                                       content_type=item.content_type, size=len(item.content))
        extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[item.content_type]
        attachment.file.save(f"{dossier.code}-{item.kind}.{extension}", ContentFile(item.content), save=False)
        attachment.save()


# --- helpers -----------------------------------------------------------------------------------
def _new_code(commune_code: str, received_at: datetime) -> str:
    stamp = received_at.astimezone(LOCAL_TZ).strftime("%y%m%d")
    return f"{stamp}-{commune_code}-{''.join(secrets.choice(CODE_ALPHABET) for _ in range(6))}"


def receiving_unit(procedure: Procedure, subject: Person, data: dict[str, Any]) -> tuple[str, str]:
    if procedure.processing_unit == "target_commune":
        unit = v.require_commune(data["commune_code"], field="data.commune_code")
    else:
        residence = permanent_residence(subject)
        if residence is None:
            raise ValidationFailed([_err("subject", "no_permanent_residence",
                                         _("Công dân chưa có nơi thường trú trong cơ sở dữ liệu"))])
        unit = v.require_commune(residence.commune_code)
    return unit.code, unit.province_code or ""


def _event(dossier: Dossier, *, actor: str, unit: str = "", from_state: str = "", note: str = "") -> None:
    """Record the transition and tell the citizen(s) concerned in their inbox."""
    DossierEvent.objects.create(dossier=dossier, actor=actor[:150], actor_unit=unit[:200], from_state=from_state,
                                to_state=dossier.state, note=note)
    recipients = {pk for pk in (dossier.applicant_id, dossier.on_behalf_of_id) if pk}
    Notification.objects.bulk_create([Notification(account_id=pk, dossier=dossier, from_state=from_state,
                                                    to_state=dossier.state, note=note) for pk in sorted(recipients)])
    if recipients:  # the citizen's notifications (popid.notifications) follow from the event
        outbox.emit(topic=TOPIC_DOSSIER_STATE, aggregate_id=str(dossier.pk), payload={
            "code": dossier.code, "procedure": dossier.procedure_code, "from_state": from_state,
            "to_state": dossier.state, "note": note, "accounts": sorted(recipients)})


def receive_dossier(*, procedure: Procedure, subject: Person, applicant: CitizenAccount | None,
            on_behalf_of: CitizenAccount | None, channel: str, data: dict[str, Any], files: list[IncomingFile],
            idempotency_key: str, actor_label: str, actor_unit: str, received_by: str = "",
            now: datetime | None = None) -> Dossier:
    received_at = now or timezone.now()
    commune_code, province_code = receiving_unit(procedure, subject, data)
    late = False
    if procedure.submission_rule == "stay_notification":
        late = received_at > stay_notification_due(datetime.fromisoformat(data["arrival"]))
    dossier = Dossier.objects.create(
        code=_new_code(commune_code, received_at), procedure_code=procedure.code, applicant=applicant,
        on_behalf_of=on_behalf_of, subject=subject, channel=channel, data=data, commune_code=commune_code,
        province_code=province_code, received_at=received_at,
        deadline=deadline_for(received_at, procedure.deadline_working_days), fee=procedure.fee(channel),
        late_notification=late, idempotency_key=idempotency_key, received_by=received_by)
    _store_attachments(dossier, files)
    _event(dossier, actor=actor_label, unit=actor_unit, note=_("Tiếp nhận hồ sơ"))
    return dossier


def require_entitled(account: CitizenAccount, procedure: Procedure, on_behalf_of: CitizenAccount | None) -> None:
    if not account.is_active:
        raise NotEntitled(_("Tài khoản không hoạt động"))
    if account.level < procedure.min_level:
        raise NotEntitled(_("Thủ tục này cần tài khoản định danh mức độ %(n)d") % {"n": procedure.min_level},
                          field="procedure")
    if on_behalf_of is not None and on_behalf_of.pk != account.pk:
        if not procedure.guardian_allowed:
            raise NotEntitled(_("Thủ tục này không cho phép người giám hộ nộp thay"), field="on_behalf_of")
        if active_guardianship(guardian=account, ward_pk=on_behalf_of.pk) is None:
            raise NotEntitled(_("Bạn không phải người giám hộ của công dân này"), field="on_behalf_of")


# --- citizen commands --------------------------------------------------------------------------
@dataclass(frozen=True)
class Application:
    """An online application that passed every check made before anything is saved."""

    procedure: Procedure
    applicant: CitizenAccount
    on_behalf_of: CitizenAccount | None
    subject: Person
    data: dict[str, Any]
    files: list[IncomingFile]


def check_application(*, account: CitizenAccount, procedure_code: str, data: dict[str, Any],
                      on_behalf_of: CitizenAccount | None = None,
                      attachments: list[IncomingFile] | None = None, draft: str = "") -> Application:
    """The intake checks every online channel makes (direct submission, the paid submission
    flow): entitlement, the form merged with what the registry already knows (not re-entered),
    the attachments, and a receiving unit. Raises the domain error; writes nothing."""
    procedure = get_procedure(procedure_code)
    if on_behalf_of is not None and on_behalf_of.pk == account.pk:
        on_behalf_of = None
    require_entitled(account, procedure, on_behalf_of)
    subject_account = on_behalf_of or account
    prefilled = {k: val for k, val in prefilled_fields(account=account, procedure=procedure, subject=subject_account,
                                                        draft=draft).items() if val is not None}
    cleaned = validate_data(procedure, {**data, **prefilled})
    files = attachments or []
    check_attachments(procedure, files)
    receiving_unit(procedure, subject_account.person, cleaned)  # refuse now, not after paying
    return Application(procedure=procedure, applicant=account, on_behalf_of=on_behalf_of,
                       subject=subject_account.person, data=cleaned, files=files)


def create_once(model: type[M], *, applicant: CitizenAccount, idempotency_key: str, procedure_code: str,
                create: Callable[[str], M]) -> tuple[M, bool]:
    """Idempotent creation, written once for dossiers and submissions: the same key from the same
    applicant returns the row created the first time (``IdempotencyMismatch`` if it was for
    another procedure), also when two requests race (the unique constraint decides)."""
    key = (idempotency_key or "")[:100]

    def existing() -> M | None:
        if not key:
            return None
        # a bare Model declares no ``objects`` manager (Dossier and Submission have it), so ``found`` is untyped
        found = model.objects.filter(applicant=applicant, idempotency_key=key).first()  # type: ignore[attr-defined]
        if found is not None and found.procedure_code != procedure_code:
            raise IdempotencyMismatch()
        row: M | None = found
        return row

    found = existing()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            return create(key), True
    except IntegrityError:
        found = existing()
        if found is None:
            raise
        return found, False


def submit_dossier(
    *, account: CitizenAccount, procedure_code: str, data: dict[str, Any], idempotency_key: str = "",
    on_behalf_of: CitizenAccount | None = None, attachments: list[IncomingFile] | None = None,
    now: datetime | None = None,
) -> tuple[Dossier, bool]:
    """Submit online. Returns (dossier, created): the same idempotency key from the same applicant
    returns the dossier created the first time, however often the request is repeated."""

    def create(key: str) -> Dossier:
        app = check_application(account=account, procedure_code=procedure_code, data=data,
                                on_behalf_of=on_behalf_of, attachments=attachments, draft=key)
        return receive_dossier(procedure=app.procedure, subject=app.subject, applicant=account,
                               on_behalf_of=app.on_behalf_of, channel=Channel.ONLINE, data=app.data,
                               files=app.files, idempotency_key=key, actor_label=account.id_number,
                               actor_unit=_("Công dân"), now=now)

    return create_once(Dossier, applicant=account, idempotency_key=idempotency_key, procedure_code=procedure_code,
                       create=create)


def _own_for_update(account: CitizenAccount, code: str) -> Dossier:
    dossier = Dossier.objects.select_for_update().filter(code=code).first()
    if dossier is None or account.pk not in {dossier.applicant_id, dossier.on_behalf_of_id}:
        raise DossierNotFound()
    return dossier


def _transition(dossier: Dossier, *, to: str, allowed_from: set[str], expected_version: int | None,
                actor: str, unit: str = "", note: str = "", **changes: Any) -> Dossier:
    if dossier.state not in allowed_from:
        raise TransitionNotAllowed(_("Không thể chuyển hồ sơ từ trạng thái “%(a)s” sang “%(b)s”")
                                   % {"a": S(dossier.state).label, "b": S(to).label},
                                   state=dossier.state)
    if expected_version is not None and expected_version != dossier.version:
        raise StaleDossier(field="version", current_version=dossier.version)
    before = dossier.state
    updated = Dossier.objects.filter(pk=dossier.pk, version=dossier.version).update(
        state=to, version=F("version") + 1, **changes)
    if updated != 1:
        raise StaleDossier(field="version")
    dossier.refresh_from_db()
    _event(dossier, actor=actor, unit=unit, from_state=before, note=note)
    return dossier


@transaction.atomic
def cancel(*, account: CitizenAccount, code: str, expected_version: int | None = None, note: str = "") -> Dossier:
    dossier = _own_for_update(account, code)
    return _transition(dossier, to=S.CANCELLED, allowed_from={S.SUBMITTED, S.IN_REVIEW, S.SUPPLEMENT_REQUESTED},
                       expected_version=expected_version, actor=account.id_number, unit=_("Công dân"),
                       note=note or _("Công dân hủy hồ sơ"), decided_at=timezone.now())


@transaction.atomic
def answer_supplement(*, account: CitizenAccount, code: str, data: dict[str, Any] | None = None,
                      attachments: list[IncomingFile] | None = None, expected_version: int | None = None,
                      note: str = "") -> Dossier:
    dossier = _own_for_update(account, code)
    if not (note or "").strip() and not data and not attachments:
        raise ValidationFailed([_err("note", "required", _("Cần ghi nội dung bổ sung hoặc đính kèm giấy tờ"))])
    procedure = get_procedure(dossier.procedure_code)
    prefilled = {f.name: dossier.data.get(f.name) for f in procedure.fields if f.prefill}
    cleaned = validate_data(procedure, {**dossier.data, **(data or {}), **prefilled})
    files = attachments or []
    check_attachments(procedure, files, require_all=False)
    pause = supplement_pause(dossier, timezone.now()) if dossier.state == S.SUPPLEMENT_REQUESTED else 0
    dossier = _transition(dossier, to=S.IN_REVIEW, allowed_from={S.SUPPLEMENT_REQUESTED},
                          expected_version=expected_version, actor=account.id_number, unit=_("Công dân"),
                          note=note or _("Công dân bổ sung hồ sơ"), data=cleaned,
                          deadline=add_working_days(dossier.deadline, pause),
                          paused_working_days=dossier.paused_working_days + pause, supplement_requested_at=None)
    _store_attachments(dossier, files)
    return dossier


# --- officer commands --------------------------------------------------------------------------
PURPOSE_PROCESS = "Xử lý hồ sơ thủ tục hành chính"
LEGAL_BASIS_PROCESS = "Luật Cư trú 2020; Nghị định 45/2020/NĐ-CP"


def _for_officer(actor: Actor, code: str) -> Dossier:
    actor.require(Permission.DOSSIER_PROCESS)
    ctx = AccessContext(actor=actor, purpose=PURPOSE_PROCESS, legal_basis=LEGAL_BASIS_PROCESS, channel="services")
    return access_dossier_for_officer(ctx=ctx, code=code, for_update=True)


@transaction.atomic
def claim(*, actor: Actor, code: str, expected_version: int | None = None) -> Dossier:
    dossier = _for_officer(actor, code)
    return _transition(dossier, to=S.IN_REVIEW, allowed_from={S.SUBMITTED}, expected_version=expected_version,
                       actor=actor.label, unit=actor.unit_name, note=_("Cán bộ nhận xử lý"),
                       claimed_by_id=actor.user_id)


@transaction.atomic
def request_supplement(*, actor: Actor, code: str, note: str, expected_version: int | None = None) -> Dossier:
    if not (note or "").strip():
        raise ValidationFailed([_err("note", "required", _("Cần ghi rõ nội dung cần bổ sung"))])
    dossier = _for_officer(actor, code)
    return _transition(dossier, to=S.SUPPLEMENT_REQUESTED, allowed_from={S.IN_REVIEW},
                       expected_version=expected_version, actor=actor.label, unit=actor.unit_name, note=note.strip(),
                       supplement_requested_at=timezone.now())


def supplement_pause(dossier: Dossier, until: datetime) -> int:
    """Working days the deadline stood still: those after the day of the request up to and
    including the day of the answer (a same-day answer costs nothing)."""
    if dossier.supplement_requested_at is None:
        return 0
    start = dossier.supplement_requested_at.astimezone(LOCAL_TZ).date()
    return max(0, working_days_between(start, until.astimezone(LOCAL_TZ).date()))


@transaction.atomic
def reject(*, actor: Actor, code: str, reason: str, expected_version: int | None = None) -> Dossier:
    if not (reason or "").strip():
        raise ValidationFailed([_err("reason", "required", _("Cần ghi lý do từ chối"))])
    dossier = _for_officer(actor, code)
    return _transition(dossier, to=S.REJECTED, allowed_from={S.SUBMITTED, S.IN_REVIEW},
                       expected_version=expected_version, actor=actor.label, unit=actor.unit_name,
                       note=reason.strip(), decision_note=reason.strip(), decided_at=timezone.now())


def command_arguments(procedure: Procedure, dossier: Dossier) -> dict[str, Any]:
    """Map dossier data to the registry command's arguments as the definition says."""
    types = {f.name: f.type for f in procedure.fields}
    args: dict[str, Any] = {}
    for name, source in procedure.command_args.items():
        if isinstance(source, str) and source.startswith("data."):
            key = source[5:]
            value = dossier.data.get(key)
            if value is None or value == "":
                continue
            if types.get(key) == "date":
                value = date.fromisoformat(value)
            args[name] = value
        elif isinstance(source, str) and source.startswith("subject."):
            args[name] = getattr(dossier.subject, source[8:])
        elif source == "today":
            args[name] = v.today()
        else:
            args[name] = source
    if "reason" in args:
        args["reason"] = f"{args['reason']} ({dossier.code})"
    return args


@transaction.atomic
def approve(*, actor: Actor, code: str, expected_version: int | None = None, note: str = "") -> Dossier:
    """Approve and run the registry command in this same transaction (a failing command rolls the
    whole approval back and its error is returned to the officer)."""
    dossier = _for_officer(actor, code)
    procedure = get_procedure(dossier.procedure_code)
    dossier = _transition(dossier, to=S.APPROVED, allowed_from={S.IN_REVIEW}, expected_version=expected_version,
                          actor=actor.label, unit=actor.unit_name, note=note or _("Phê duyệt hồ sơ"),
                          decided_at=timezone.now(), decision_note=note)
    if procedure.command:
        external = EXTERNAL_COMMANDS.get(procedure.command)
        command = import_string(external) if external else getattr(registry_services, procedure.command)
        command(actor=actor, **command_arguments(procedure, dossier))
    return dossier


def _counter_subject(actor: Actor, procedure: Procedure, id_number: str, data: dict[str, Any]) -> Person:
    """The subject of a counter dossier, read under the non-resident rule of register_counter_dossier."""
    from popid.core.access import record_access
    from popid.registry.errors import PersonNotFound

    fields = sorted({f.prefill for f in procedure.fields if f.prefill} | {"id_number"})
    if procedure.processing_unit != "target_commune":
        ctx = AccessContext(actor=actor, purpose=f"Tiếp nhận hồ sơ trực tiếp: {procedure.name}"[:200],
                            legal_basis="Luật Cư trú 2020", channel="counter")
        return registry_selectors.access_person(ctx=ctx, id_number=id_number, fields=fields)
    target, error = _clean_value("commune", "data.commune_code", (data or {}).get("commune_code") or "")
    if error:
        raise ValidationFailed([error])
    if not actor.covers_commune(target):
        raise PermissionDenied(_("Hồ sơ thuộc thẩm quyền của đơn vị khác"), field="data.commune_code")
    if not (isinstance(id_number, str) and len(id_number) == 12 and id_number.isdigit()):
        raise ValidationFailed([_err("id_number", "format", _("Số định danh cá nhân gồm đúng 12 chữ số"))])
    person = Person.objects.filter(id_number=id_number).first()
    if person is None:
        raise PersonNotFound(_("Không tìm thấy công dân có số định danh %(id)s") % {"id": id_number},
                             field="id_number")
    ctx = AccessContext(actor=actor, purpose=f"Tiếp nhận hồ sơ trực tiếp tại nơi đăng ký cư trú: {procedure.name}"
                        [:200], legal_basis="Luật Cư trú 2020 (đăng ký tại Công an cấp xã nơi cư trú mới)",
                        channel="counter", extra={"receiving_commune": target})
    record_access(ctx=ctx, person_id_numbers=[person.id_number], fields=fields)
    return person


@transaction.atomic
def register_counter_dossier(
    *, actor: Actor, procedure_code: str, subject_id_number: str, data: dict[str, Any],
    attachments: list[IncomingFile] | None = None, now: datetime | None = None,
) -> Dossier:
    """An officer registers a dossier received in person (channel "counter"), in their own unit.

    Non-residents: a procedure processed where the person registers (``target_commune``: temporary or
    permanent residence, stay notification) is filed at the counter of the target commune, so the
    subject may be registered anywhere; the target must be the officer's unit (checked before any
    personal data is read) and the subject is then found by ID number nationally, the read recorded
    with its purpose. The dossier stays in the officer's unit: other units cannot see or act on it.
    Procedures processed at the permanent residence read the subject within the officer's jurisdiction."""
    actor.require(Permission.DOSSIER_PROCESS)
    procedure = get_procedure(procedure_code)
    person = _counter_subject(actor, procedure, subject_id_number, data)
    prefilled = {k: val for k, val in prefill_values(person=person, procedure=procedure).items() if val is not None}
    cleaned = validate_data(procedure, {**data, **prefilled})
    files = attachments or []
    check_attachments(procedure, files)
    commune_code, _province = receiving_unit(procedure, person, cleaned)
    if not actor.covers_commune(commune_code):
        raise PermissionDenied(_("Hồ sơ thuộc thẩm quyền của đơn vị khác"), field="data.commune_code")
    applicant = CitizenAccount.objects.filter(person=person).first()
    return receive_dossier(procedure=procedure, subject=person, applicant=applicant, on_behalf_of=None,
                   channel=Channel.COUNTER, data=cleaned, files=files, idempotency_key="",
                   actor_label=actor.label, actor_unit=actor.unit_name, received_by=actor.label, now=now)
