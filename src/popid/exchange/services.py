"""The services agencies call: eKYC (single and batch), person data, life status, consent
requests; and the citizen's consent decisions.

Order of checks on every call: subsystem usable → rate and quota → grant active → fields inside
the grant → consent for sensitive fields → read and ``record_access``. A refused call releases
nothing and records nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core import hotcache, messaging, outbox
from popid.core.access import AccessContext, Actor, record_access
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.id_numbers import ID_NUMBER_RE
from popid.exchange import fields as catalogue
from popid.exchange import throttle
from popid.exchange.access import CHANNEL_EKYC, CHANNEL_EXCHANGE, RequestContext, access_context
from popid.exchange.errors import (
    BatchTooLarge,
    ConfidentialNotAllowed,
    ConsentExpired,
    ConsentNotFound,
    ConsentPending,
    ConsentRefused,
    ConsentRequired,
    ConsentRevoked,
    FieldNotGranted,
    GrantExpired,
    ServiceNotGranted,
)
from popid.exchange.models import TOPIC_CONSENT_REQUESTED, ConsentStatus, DataConsent, Grant, Service, Subsystem
from popid.registry.errors import PersonNotFound
from popid.registry.models import Person
from popid.registry.selectors import person_by_number

MAX_BATCH = 1000
MAX_CONSENT_DAYS = 730


@dataclass(frozen=True)
class GrantView:
    """The union of a subsystem's active grants for one service."""

    service: str
    fields: frozenset[str]
    event_types: frozenset[str]
    legal_basis: str
    confidential_allowed: bool


def active_grant(subsystem: Subsystem, service: str, *, at: datetime | None = None,
                 fresh: bool = False) -> GrantView:
    """403 ``service_not_granted`` when there never was (or no longer is) a grant, 403
    ``grant_expired`` when the only grants have expired. ``fresh`` reads the database, not the
    per-process cache: background work (webhook deliveries) has no latency to save and must stop
    the moment a grant is revoked, whichever process revoked it."""
    at = at or timezone.now()
    cached = hotcache.cache("exchange.grants")  # ≤ POPID_HOT_CACHE_SECONDS; revoke_grant forgets it
    grants = None if fresh else cached.get((subsystem.pk, service))
    if grants is None:
        grants = list(Grant.objects.filter(subsystem=subsystem, service=service, revoked_at__isnull=True))
        cached.put((subsystem.pk, service), grants)
    if not grants:
        raise ServiceNotGranted(_("Hệ thống %(s)s chưa được cấp dịch vụ %(svc)s") % {"s": subsystem, "svc": service})
    live = [g for g in grants if g.is_active(at)]
    if not live:
        last = max(grants, key=lambda g: g.expires_at)
        raise GrantExpired(_("Quyền dùng dịch vụ %(svc)s hết hạn lúc %(at)s")
                           % {"svc": service, "at": timezone.localtime(last.expires_at).strftime("%d/%m/%Y %H:%M")},
                           expired_at=last.expires_at.isoformat())
    return GrantView(service=service, fields=frozenset(f for g in live for f in g.fields),
                     event_types=frozenset(e for g in live for e in g.event_types),
                     legal_basis=live[0].legal_basis, confidential_allowed=any(g.confidential_allowed for g in live))


def require_fields(grant: GrantView, names: Iterable[str], *, field_prefix: str = "fields") -> None:
    names = list(dict.fromkeys(names))
    if bad := catalogue.unknown(names):
        raise ValidationFailed([{"field": field_prefix, "reason": "unknown_field",
                                 "message": _("Trường không có trong danh mục: %(f)s") % {"f": n}} for n in bad])
    outside = [n for n in names if n not in grant.fields]
    if outside:
        raise FieldNotGranted(
            _("Không được cấp các trường: %(f)s") % {"f": ", ".join(outside)}, fields=outside,
            granted=sorted(grant.fields))


def _begin(subsystem: Subsystem, rc: RequestContext, service: str) -> tuple[RequestContext, GrantView]:
    if not subsystem.usable:
        raise PermissionDenied(_("Hệ thống kết nối đã bị tạm dừng"))
    rc = rc.cleaned()
    throttle.check_rate(subsystem.agency)  # every call counts against the rate, refused ones too
    grant = active_grant(subsystem, service)
    if rc.hidden_until is not None and not grant.confidential_allowed:
        raise ConfidentialNotAllowed(_("Dịch vụ này không cho phép tra cứu ẩn với công dân"),
                                     field="context.hidden_until")
    return rc, grant


Release = tuple[AccessContext, list[str], list[str]]  # context, ID numbers, fields released


def _settle(subsystem: Subsystem, units: int, releases: list[Release]) -> None:
    """Record what is released and charge the daily quota in one transaction, i.e. one commit
    (one fsync) per answer. The records are written first, so the agency's usage row stays
    locked only for its UPDATE and the commit; over the quota everything rolls back and
    nothing is released. Only answered calls count against the quota."""
    with transaction.atomic():
        for ctx, id_numbers, names in releases:
            record_access(ctx=ctx, person_id_numbers=id_numbers, fields=names)
        throttle.charge_quota(subsystem.agency, units)


def _check_id(id_number: str, field_name: str = "id_number") -> str:
    id_number = (id_number or "").strip()
    if not ID_NUMBER_RE.match(id_number):
        raise ValidationFailed([{"field": field_name, "reason": "format",
                                 "message": _("Số định danh cá nhân gồm đúng 12 chữ số")}])
    return id_number


# --- consent ------------------------------------------------------------------------------------
def _same_purpose(a: str, b: str) -> bool:
    return catalogue.canonical(a) == catalogue.canonical(b)


def _raise_for(consent: DataConsent, names: list[str], purpose: str) -> None:
    """Raise the precise reason this consent does not allow releasing ``names`` for ``purpose``."""
    ref = consent.reference
    if consent.status == ConsentStatus.PENDING:
        raise ConsentPending(_("Yêu cầu %(ref)s đang chờ công dân trả lời") % {"ref": ref}, consent_ref=ref)
    if consent.status == ConsentStatus.REFUSED:
        raise ConsentRefused(_("Công dân đã từ chối yêu cầu %(ref)s") % {"ref": ref}, consent_ref=ref)
    if consent.status == ConsentStatus.REVOKED:
        raise ConsentRevoked(_("Công dân đã thu hồi đồng ý %(ref)s") % {"ref": ref}, consent_ref=ref)
    if consent.is_expired:
        raise ConsentExpired(_("Đồng ý %(ref)s đã hết hạn") % {"ref": ref}, consent_ref=ref)
    if missing := sorted(set(names) - set(consent.fields)):
        raise ConsentRequired(_("Đồng ý %(ref)s không bao gồm: %(f)s") % {"ref": ref, "f": ", ".join(missing)},
                              consent_ref=ref, fields=missing)
    if not _same_purpose(consent.purpose, purpose):
        raise ConsentRequired(_("Đồng ý %(ref)s được cho mục đích khác") % {"ref": ref}, consent_ref=ref)


def consent_for(*, subsystem: Subsystem, person: Person, names: list[str], rc: RequestContext) -> DataConsent | None:
    """The consent that allows releasing the sensitive ``names`` (None when none are sensitive)."""
    sensitive = catalogue.sensitive_among(names)
    if not sensitive:
        return None
    agency = subsystem.agency
    if rc.consent_ref:
        consent = DataConsent.objects.filter(reference=rc.consent_ref, agency=agency, person=person).first()
        if consent is None:
            raise ConsentRequired(_("Mã đồng ý %(ref)s không thuộc cơ quan và công dân này") % {"ref": rc.consent_ref},
                                  field="context.consent_ref", fields=sensitive)
        _raise_for(consent, sensitive, rc.purpose)
        return consent
    candidates = list(DataConsent.objects.filter(agency=agency, person=person).order_by("-requested_at", "-id"))
    for consent in candidates:
        if (consent.status == ConsentStatus.APPROVED and not consent.is_expired
                and set(sensitive) <= set(consent.fields) and _same_purpose(consent.purpose, rc.purpose)):
            return consent
    relevant = [c for c in candidates if set(sensitive) <= set(c.fields) and _same_purpose(c.purpose, rc.purpose)]
    if relevant:
        _raise_for(relevant[0], sensitive, rc.purpose)
    raise ConsentRequired(_("Chưa có đồng ý của công dân cho: %(f)s") % {"f": ", ".join(sensitive)}, fields=sensitive)


@transaction.atomic
def request_consent(*, subsystem: Subsystem, rc: RequestContext, id_number: str, fields: list[str],
                    valid_until: datetime) -> DataConsent:
    """An agency asks a citizen to release sensitive fields for ``rc.purpose`` until ``valid_until``.
    The fields must be sensitive and inside one of the subsystem's active grants."""
    if not subsystem.usable:
        raise PermissionDenied(_("Hệ thống kết nối đã bị tạm dừng"))
    rc = rc.cleaned()
    throttle.check_rate(subsystem.agency)  # no daily quota, but no flooding citizens with requests
    id_number = _check_id(id_number)
    names = sorted(set(fields or []))
    if bad := catalogue.unknown(names):
        raise ValidationFailed([{"field": "fields", "reason": "unknown_field",
                                 "message": _("Trường không có trong danh mục: %(f)s") % {"f": ", ".join(bad)}}])
    not_sensitive = [n for n in names if n not in catalogue.SENSITIVE]
    if not names or not_sensitive:
        raise ValidationFailed([{"field": "fields", "reason": "not_sensitive",
                                 "message": _("Chỉ xin đồng ý cho trường nhạy cảm: %(f)s")
                                 % {"f": ", ".join(sorted(catalogue.SENSITIVE))}}])
    granted: set[str] = set()
    for service in (Service.PERSON_DATA, Service.EKYC, Service.BATCH_VERIFY, Service.EVENTS):
        try:
            granted |= active_grant(subsystem, service).fields
        except (ServiceNotGranted, GrantExpired):
            continue
    if outside := [n for n in names if n not in granted]:
        raise FieldNotGranted(_("Không được cấp các trường: %(f)s") % {"f": ", ".join(outside)}, fields=outside)
    now = timezone.now()
    if valid_until <= now or valid_until > now + timedelta(days=MAX_CONSENT_DAYS):
        raise ValidationFailed([{"field": "valid_until", "reason": "range",
                                 "message": _("Thời hạn đồng ý phải trong vòng %(n)d ngày tới")
                                 % {"n": MAX_CONSENT_DAYS}}])
    person = Person.objects.filter(id_number=id_number).first()
    if person is None:
        raise PersonNotFound(_("Không tìm thấy công dân có số định danh %(id)s") % {"id": id_number}, field="id_number")
    consent = DataConsent.objects.create(
        reference=f"DY-{secrets.token_hex(6).upper()}", agency=subsystem.agency, person=person, fields=names,
        purpose=rc.purpose, valid_until=valid_until, requested_by=f"{rc.official} — {subsystem}"[:200])
    transaction.on_commit(lambda: _notify_citizen(consent))
    outbox.emit(topic=TOPIC_CONSENT_REQUESTED, aggregate_id=consent.reference, payload={"consent": consent.pk})
    return consent


def _notify_citizen(consent: DataConsent) -> None:
    """An SMS to the person's identity account (or their guardians' for a ward) so the request
    does not wait unseen; no ID number or data in the text, only who asks, what and where to answer."""
    from popid.identity.models import AccountStatus, CitizenAccount, Guardianship

    phones = set(CitizenAccount.objects.filter(person=consent.person, status=AccountStatus.ACTIVE)
                 .exclude(phone="").values_list("phone", flat=True))
    phones |= set(Guardianship.objects.filter(ward__person=consent.person, ended_on__isnull=True)
                  .values_list("guardian__phone", flat=True))
    text = _("PopID: %(agency)s xin bạn đồng ý chia sẻ %(fields)s cho mục đích \"%(purpose)s\" (mã %(ref)s). "
             "Trả lời tại mục Đồng ý chia sẻ dữ liệu: /chia-se/dong-y/") % {
        "agency": consent.agency.name, "fields": ", ".join(catalogue.labels(consent.fields)),
        "purpose": consent.purpose, "ref": consent.reference}
    for phone in sorted(p for p in phones if p):
        messaging.send_sms(phone, text)


def consent_status(*, subsystem: Subsystem, reference: str) -> DataConsent:
    consent = DataConsent.objects.filter(reference=reference, agency=subsystem.agency).first()
    if consent is None:
        raise ConsentNotFound(_("Không có yêu cầu đồng ý %(ref)s") % {"ref": reference})
    return consent


def _citizen_consent(actor: Actor, consent_id: int) -> DataConsent:
    consent = DataConsent.objects.select_for_update().select_related("agency", "person").filter(pk=consent_id).first()
    if consent is None or not actor.is_citizen or consent.person_id not in actor.person_ids:
        raise ConsentNotFound(_("Không có yêu cầu đồng ý này"))
    return consent


@transaction.atomic
def decide_consent(*, actor: Actor, consent_id: int, approve: bool) -> DataConsent:
    """The citizen (or their guardian) approves or refuses a pending request."""
    consent = _citizen_consent(actor, consent_id)
    if consent.status != ConsentStatus.PENDING:
        raise ValidationFailed([{"field": "consent", "reason": "decided", "message": _("Yêu cầu này đã được trả lời")}])
    if approve and consent.is_expired:
        raise ValidationFailed([{"field": "consent", "reason": "expired", "message": _("Yêu cầu này đã hết hạn")}])
    consent.status = ConsentStatus.APPROVED if approve else ConsentStatus.REFUSED
    consent.decided_at = timezone.now()
    consent.save(update_fields=["status", "decided_at"])
    return consent


@transaction.atomic
def revoke_consent(*, actor: Actor, consent_id: int) -> DataConsent:
    consent = _citizen_consent(actor, consent_id)
    if consent.status != ConsentStatus.APPROVED:
        raise ValidationFailed([{"field": "consent", "reason": "not_approved",
                                 "message": _("Chỉ thu hồi được đồng ý đang có hiệu lực")}])
    consent.status = ConsentStatus.REVOKED
    consent.revoked_at = timezone.now()
    consent.save(update_fields=["status", "revoked_at"])
    return consent


# --- eKYC -------------------------------------------------------------------------------------
@dataclass
class Verification:
    id_number: str
    found: bool
    attributes: dict[str, bool]
    ref: str = ""
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def match(self) -> bool:
        return self.found and not self.error and all(self.attributes.values())

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id_number": self.id_number, "match": self.match, "attributes": self.attributes}
        if self.ref:
            body["ref"] = self.ref
        if self.error:
            body["error"] = self.error
        return body


def _attribute_names(attributes: dict[str, Any]) -> list[str]:
    return [name for name, value in attributes.items() if value not in (None, "")]


def _verify_one(subsystem: Subsystem, rc: RequestContext, person: Person | None, id_number: str,
                attributes: dict[str, Any], ref: str = "") -> Verification:
    names = _attribute_names(attributes)
    if person is None:
        return Verification(id_number=id_number, found=False, attributes=dict.fromkeys(names, False), ref=ref)
    consent = consent_for(subsystem=subsystem, person=person, names=names, rc=rc)
    result = Verification(id_number=id_number, found=True, ref=ref,
                          attributes={n: catalogue.matches(person, n, attributes[n]) for n in names})
    result.extra["consent_ref"] = consent.reference if consent else ""
    return result


def verify_identity(*, subsystem: Subsystem, rc: RequestContext, id_number: str,
                    attributes: dict[str, Any]) -> Verification:
    """eKYC: does each attribute match the registry for this ID number? Only yes/no per
    attribute leaves; an unknown number answers all-no. The check is an access to the person's
    data (channel ``ekyc``) and is recorded with the attributes compared."""
    id_number = _check_id(id_number)  # malformed input costs no quota
    rc, grant = _begin(subsystem, rc, Service.EKYC)
    names = _attribute_names(attributes)
    if "full_name" not in names or "birth_date" not in names:
        raise ValidationFailed([{"field": n, "reason": "required", "message": _("Trường này là bắt buộc")}
                                for n in ("full_name", "birth_date") if n not in names])
    require_fields(grant, names, field_prefix="attributes")
    person = person_by_number(id_number)
    result = _verify_one(subsystem, rc, person, id_number, attributes)
    ctx = access_context(subsystem, rc, channel=CHANNEL_EKYC, consent_ref=result.extra.get("consent_ref", ""))
    _settle(subsystem, 1, [(ctx, [id_number], names)] if result.found else [])
    return result


def verify_batch(*, subsystem: Subsystem, rc: RequestContext, items: list[dict[str, Any]]) -> list[Verification]:
    """Up to ``MAX_BATCH`` verifications in one call, one result per item in order; an item whose
    sensitive attributes lack consent answers with that error instead of yes/no."""
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(_("Tối đa %(n)d người mỗi lô, nhận được %(got)d") % {"n": MAX_BATCH, "got": len(items)},
                            max_items=MAX_BATCH)
    if not items:
        raise ValidationFailed([{"field": "items", "reason": "empty", "message": _("Lô không có người nào")}])
    errors, all_names = [], set()
    for index, item in enumerate(items):
        if not ID_NUMBER_RE.match(str(item.get("id_number") or "")):
            errors.append({"field": f"items.{index}.id_number", "reason": "format",
                           "message": _("Số định danh cá nhân gồm đúng 12 chữ số")})
        all_names |= set(_attribute_names(item.get("attributes") or {}))
    if errors:
        raise ValidationFailed(errors)
    rc, grant = _begin(subsystem, rc, Service.BATCH_VERIFY)
    require_fields(grant, sorted(all_names), field_prefix="attributes")
    numbers = [item["id_number"] for item in items]
    persons = {p.id_number: p for p in Person.objects.filter(id_number__in=set(numbers))}
    results: list[Verification] = []
    released: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for item in items:
        attributes = item.get("attributes") or {}
        person = persons.get(item["id_number"])
        ref = str(item.get("ref") or "")[:100]
        try:
            result = _verify_one(subsystem, rc, person, item["id_number"], attributes, ref=ref)
        except ConsentRequired as exc:
            result = Verification(id_number=item["id_number"], found=True, attributes={}, ref=ref, error=exc.code)
        results.append(result)
        if result.found and not result.error:
            key = (tuple(sorted(result.attributes)), result.extra.get("consent_ref", ""))
            released.setdefault(key, []).append(result.id_number)
    _settle(subsystem, len(items), [
        (access_context(subsystem, rc, channel=CHANNEL_EKYC, consent_ref=consent_ref), id_numbers, list(names))
        for (names, consent_ref), id_numbers in released.items()])
    return results


# --- person data and life status ---------------------------------------------------------------
def person_data(*, subsystem: Subsystem, rc: RequestContext, id_number: str, fields: list[str]) -> dict[str, Any]:
    """Exactly the requested fields, each inside the grant; sensitive ones only with a consent."""
    id_number = _check_id(id_number)
    rc, grant = _begin(subsystem, rc, Service.PERSON_DATA)
    names = sorted(set(fields or []))
    if not names:
        raise ValidationFailed([{"field": "fields", "reason": "required", "message": _("Cần chọn ít nhất một trường")}])
    require_fields(grant, names)
    person = Person.objects.filter(id_number=id_number).first()
    if person is None:
        raise PersonNotFound(_("Không tìm thấy công dân có số định danh %(id)s") % {"id": id_number}, field="id_number")
    consent = consent_for(subsystem=subsystem, person=person, names=names, rc=rc)
    data = catalogue.release(person, names)
    ctx = access_context(subsystem, rc, channel=CHANNEL_EXCHANGE, consent_ref=consent.reference if consent else "")
    _settle(subsystem, 1, [(ctx, [person.id_number], names)])
    return {"id_number": person.id_number, "fields": data, "consent_ref": consent.reference if consent else None}


def life_status(*, subsystem: Subsystem, rc: RequestContext, id_numbers: list[str]) -> list[dict[str, Any]]:
    """alive / deceased / missing per number (``unknown`` when not in the registry), for benefit
    programmes. Up to ``MAX_BATCH`` numbers per call."""
    if len(id_numbers) > MAX_BATCH:
        raise BatchTooLarge(_("Tối đa %(n)d người mỗi lô, nhận được %(got)d")
                            % {"n": MAX_BATCH, "got": len(id_numbers)}, max_items=MAX_BATCH)
    if not id_numbers:
        raise ValidationFailed([{"field": "id_numbers", "reason": "empty", "message": _("Danh sách trống")}])
    for index, number in enumerate(id_numbers):
        _check_id(number, f"id_numbers.{index}")
    rc, _grant = _begin(subsystem, rc, Service.LIFE_STATUS)
    rows = {p["id_number"]: p for p in Person.objects.filter(id_number__in=set(id_numbers))
            .values("id_number", "status", "died_on")}
    results = []
    for number in id_numbers:
        row = rows.get(number)
        results.append({"id_number": number, "status": row["status"] if row else "unknown",
                        "died_on": row["died_on"].isoformat() if row and row["died_on"] else None})
    _settle(subsystem, len(id_numbers),
            [(access_context(subsystem, rc), list(rows), ["life_status"])] if rows else [])
    return results
