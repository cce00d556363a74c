"""Commands of the immigration database: establishments and their staff, accommodation
declarations (arrival, departure, CSV batch), the overstay computation and the watch list.

Who declares is a :class:`Declarant`: a citizen account linked to the establishment (web form,
CSV) or a property-management subsystem holding the exchange ``accommodation`` grant and linked
to the establishment (API). A declarant can only ever declare for its own establishments.

Rules of a declaration (Law on Entry, Exit, Transit and Residence of Foreigners, Art. 33):
declared within 12 hours of arrival, 24 hours in remote areas (a late one is accepted and
flagged); a passport expired on the arrival date is refused; a departure before the arrival is
refused; a guest still checked in at another establishment that night is accepted with a
recorded warning; Vietnamese guests go through the stay-notification procedure instead.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from popid.core import admin_units, outbox
from popid.core.access import Actor
from popid.core.errors import DomainError, PermissionDenied, ValidationFailed
from popid.core.permissions import Permission
from popid.immigration import mrz as mrz_lib
from popid.immigration.errors import (
    AlreadyCheckedIn,
    ArrivalInFuture,
    BorderEventOrder,
    DepartureBeforeArrival,
    DocumentMismatch,
    EstablishmentNotFound,
    ForeignPersonNotFound,
    InvalidVisa,
    NoOpenStay,
    NotEstablishmentStaff,
    PassportAlreadyLost,
    PassportExpired,
    PassportNotFound,
    VietnameseGuest,
    WatchHitNotFound,
)
from popid.immigration.models import (
    AlertStatus,
    BorderEvent,
    BorderEventKind,
    Channel,
    DocumentKind,
    Entries,
    Establishment,
    EstablishmentKind,
    EstablishmentStaff,
    ForeignPerson,
    OverstayAlert,
    Passport,
    PassportLoss,
    PassportStatus,
    ResidenceCardKind,
    Sex,
    Stay,
    TemporaryResidenceCard,
    TravelDocument,
    Visa,
    VisaKind,
    WatchHit,
    WatchListEntry,
)

E_VISA_MAX_DAYS = 90
CLOCK_SKEW = timedelta(minutes=10)
CSV_MAX_ROWS = 50_000
CSV_COLUMNS = ("event", "mrz", "nationality", "document_number", "surname", "given_names", "birth_date", "sex",
               "document_expiry", "at", "room", "visa_number", "visa_kind", "visa_entries", "visa_valid_from",
               "visa_valid_until")


# --- who declares ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Declarant:
    label: str
    channel: str
    account_id: int | None = None
    subsystem_id: int | None = None

    @classmethod
    def staff(cls, account: Any, *, channel: str = Channel.WEB) -> Declarant:
        return cls(label=f"citizen:{account.user.username}", channel=channel, account_id=account.pk)

    @classmethod
    def system(cls, subsystem: Any) -> Declarant:
        return cls(label=f"pms:{subsystem.agency.code}/{subsystem.code}", channel=Channel.API,
                   subsystem_id=subsystem.pk)


def establishment_for(declarant: Declarant, code: str) -> Establishment:
    """The establishment ``code`` if the declarant may declare for it. Unknown and foreign
    establishments are refused alike (no enumeration)."""
    q = Q(code=code, is_active=True)
    if declarant.account_id is not None:
        q &= Q(staff__account_id=declarant.account_id, staff__is_active=True)
    elif declarant.subsystem_id is not None:
        q &= Q(subsystem_id=declarant.subsystem_id)
    else:
        raise NotEstablishmentStaff()
    establishment = Establishment.objects.filter(q).first()
    if establishment is None:
        raise NotEstablishmentStaff(_("Không được khai báo cho cơ sở lưu trú %(code)s") % {"code": code[:40]})
    return establishment


def establishments_of(account: Any) -> list[Establishment]:
    return list(Establishment.objects.filter(staff__account=account, staff__is_active=True, is_active=True)
                .order_by("name"))


# --- guests ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GuestIn:
    nationality: str
    document_number: str
    surname: str
    given_names: str = ""
    birth_date: date | None = None
    sex: str = Sex.UNSPECIFIED
    document_expiry: date | None = None
    issuing_state: str = ""
    kind: str = DocumentKind.PASSPORT
    mrz: str = ""


@dataclass(frozen=True)
class VisaIn:
    number: str
    valid_until: date
    valid_from: date | None = None
    kind: str = VisaKind.E_VISA
    entries: str = Entries.SINGLE


def _invalid(name: str, message: str, reason: str = "invalid") -> ValidationFailed:
    return ValidationFailed([{"field": name, "reason": reason, "message": message}])


def guest_from_mrz(lines: str | list[str]) -> GuestIn:
    data = mrz_lib.parse(lines)
    if data.is_visa:
        raise mrz_lib.InvalidMrz("document_type", _("Đây là MRZ của thị thực; cần MRZ của hộ chiếu hoặc thẻ"))
    return GuestIn(nationality=data.nationality, document_number=data.document_number, surname=data.surname,
                   given_names=data.given_names, birth_date=data.birth_date, sex=data.sex,
                   document_expiry=data.expiry_date, issuing_state=data.issuing_state,
                   kind=DocumentKind.PASSPORT if data.format == mrz_lib.TD3 else DocumentKind.ID_CARD,
                   mrz="\n".join(data.lines))


def guest_from_fields(*, nationality: str, document_number: str, surname: str, given_names: str = "",
                      birth_date: date | None = None, sex: str = "", document_expiry: date | None = None) -> GuestIn:
    """A guest typed without an MRZ: the same shape rules as the zone (A–Z, 0–9)."""
    errors = []
    nationality = (nationality or "").strip().upper()
    number = (document_number or "").strip().upper()
    if len(nationality) != 3 or not nationality.isalpha() or not nationality.isascii():
        errors.append({"field": "nationality", "reason": "invalid",
                       "message": _("Quốc tịch là mã 3 chữ cái theo ICAO (ví dụ FRA, USA)")})
    if not (1 <= len(number) <= 20) or not number.isalnum() or not number.isascii():
        errors.append({"field": "document_number", "reason": "invalid",
                       "message": _("Số hộ chiếu gồm 1–20 chữ cái/chữ số")})
    surname = " ".join((surname or "").split()).upper()
    if not surname or len(surname) > 80:
        errors.append({"field": "surname", "reason": "required", "message": _("Họ bắt buộc, tối đa 80 ký tự")})
    given = " ".join((given_names or "").split()).upper()
    if len(given) > 120:
        errors.append({"field": "given_names", "reason": "too_long", "message": _("Tối đa 120 ký tự")})
    sex = (sex or "X").upper()
    if sex not in Sex.values:
        errors.append({"field": "sex", "reason": "invalid", "message": _("Giới tính là M, F hoặc X")})
    if document_expiry is None:
        errors.append({"field": "document_expiry", "reason": "required",
                       "message": _("Ngày hết hạn hộ chiếu bắt buộc")})
    if errors:
        raise ValidationFailed(errors)
    return GuestIn(nationality=nationality, document_number=number, surname=surname, given_names=given,
                   birth_date=birth_date, sex=sex, document_expiry=document_expiry, issuing_state=nationality)


def _check_visa(visa: VisaIn | None, arrival_day: date) -> VisaIn | None:
    if visa is None:
        return None
    number = (visa.number or "").strip().upper()
    valid_from = visa.valid_from or arrival_day
    if not number or len(number) > 30:
        raise InvalidVisa(_("Số thị thực bắt buộc, tối đa 30 ký tự"), field="visa_number")
    if visa.kind not in VisaKind.values or visa.entries not in Entries.values:
        raise InvalidVisa(_("Loại thị thực hoặc số lần nhập cảnh không hợp lệ"), field="visa_kind")
    if visa.kind == VisaKind.TEMPORARY_RESIDENCE_CARD:
        raise InvalidVisa(_("Thẻ tạm trú được ghi nhận riêng (cơ quan xuất nhập cảnh cấp), không phải thị thực"),
                          field="visa_kind")
    if visa.valid_until < valid_from:
        raise InvalidVisa(_("Thị thực hết hạn trước ngày bắt đầu hiệu lực"), field="visa_valid_until")
    if (visa.valid_until - valid_from).days + 1 > E_VISA_MAX_DAYS:
        raise InvalidVisa(_("Thị thực (một lần hoặc nhiều lần) có thời hạn tối đa %(n)d ngày; lưu trú dài hơn "
                            "cần thẻ tạm trú") % {"n": E_VISA_MAX_DAYS}, field="visa_valid_until")
    return VisaIn(number=number, valid_until=visa.valid_until, valid_from=valid_from, kind=visa.kind,
                  entries=visa.entries)


def _person_and_document(guest: GuestIn) -> tuple[ForeignPerson, TravelDocument]:
    document = (TravelDocument.objects.select_related("person")
                .filter(nationality=guest.nationality, number=guest.document_number).first())
    if document is None:
        person = ForeignPerson.objects.create(nationality=guest.nationality, surname=guest.surname,
                                              given_names=guest.given_names, birth_date=guest.birth_date,
                                              sex=guest.sex)
        document = TravelDocument.objects.create(person=person, kind=guest.kind, nationality=guest.nationality,
                                                 issuing_state=guest.issuing_state or guest.nationality,
                                                 number=guest.document_number, expiry_date=guest.document_expiry,
                                                 mrz=guest.mrz)
        return person, document
    person = document.person
    if person.birth_date and guest.birth_date and person.birth_date != guest.birth_date:
        raise DocumentMismatch(_("Số hộ chiếu đã được ghi nhận với ngày sinh khác"), field="birth_date")
    if guest.mrz and (document.mrz != guest.mrz or document.expiry_date != guest.document_expiry):
        document.mrz, document.expiry_date = guest.mrz, guest.document_expiry
        document.save(update_fields=["mrz", "expiry_date"])
    return person, document


def _late(declared_at: datetime, event_at: datetime, establishment: Establishment) -> int:
    """Hours past the deadline (0 when on time)."""
    over = declared_at - event_at - timedelta(hours=establishment.deadline_hours)
    return int(over.total_seconds() // 3600) + 1 if over > timedelta(0) else 0


def _arrival_checks(guest: GuestIn, arrival_at: datetime, visa: VisaIn | None, now: datetime
                    ) -> tuple[datetime, VisaIn | None]:
    """The rules that need no database: nationality, arrival time, passport validity, visa."""
    if guest.nationality == "VNM":
        raise VietnameseGuest(_("Khách mang quốc tịch Việt Nam được thông báo lưu trú theo Luật Cư trú"),
                              field="nationality")
    if timezone.is_naive(arrival_at):
        arrival_at = timezone.make_aware(arrival_at)
    if arrival_at > now + CLOCK_SKEW:
        raise ArrivalInFuture(field="arrival_at")
    arrival_day = timezone.localtime(arrival_at).date()
    if guest.document_expiry is not None and guest.document_expiry < arrival_day:
        raise PassportExpired(_("Hộ chiếu hết hạn ngày %(d)s, khách đến ngày %(a)s")
                              % {"d": guest.document_expiry.isoformat(), "a": arrival_day.isoformat()},
                              field="document_expiry")
    return arrival_at, _check_visa(visa, arrival_day)


def _stay_warnings(establishment: Establishment, open_stays: list[tuple[int, str]], now: datetime,
                   arrival_at: datetime) -> tuple[list[dict[str, Any]], int]:
    """``open_stays``: (stay id, establishment code) of the guest's other stays open that night."""
    warnings: list[dict[str, Any]] = [
        {"code": "checked_in_elsewhere", "establishment": code, "stay": stay_id,
         "message": _("Khách đang lưu trú tại cơ sở khác trong cùng đêm")}
        for stay_id, code in open_stays
    ]
    late = _late(now, arrival_at, establishment)
    if late:
        warnings.append({"code": "late_declaration", "hours_late": late,
                         "message": _("Khai báo quá hạn %(h)d giờ") % {"h": establishment.deadline_hours}})
    return warnings, late


def _arrive(*, declarant: Declarant, establishment: Establishment, guest: GuestIn, arrival_at: datetime,
            room: str, visa: VisaIn | None, now: datetime) -> Stay:
    arrival_at, visa = _arrival_checks(guest, arrival_at, visa, now)
    room = (room or "").strip()[:20]
    person, document = _person_and_document(guest)
    open_stays = list(Stay.objects.select_related("establishment").filter(person=person, arrival_at__lte=arrival_at)
                      .filter(Q(departure_at__isnull=True) | Q(departure_at__gt=arrival_at)))
    if any(s.establishment_id == establishment.pk for s in open_stays):
        raise AlreadyCheckedIn(_("Khách đã được khai báo đến và chưa khai báo đi"), field="document_number")
    warnings, late = _stay_warnings(establishment, [(s.pk, s.establishment.code) for s in open_stays], now,
                                    arrival_at)
    if visa is not None:
        _record_visa(person, visa)
    stay = Stay.objects.create(person=person, document=document, establishment=establishment,
                               commune_code=establishment.commune_code, province_code=establishment.province_code,
                               room=room, arrival_at=arrival_at, arrival_declared_at=now, arrival_late=bool(late),
                               channel=declarant.channel, declared_by=declarant.label[:200], warnings=warnings)
    WatchHit.objects.bulk_create(_watch_hits([stay], {person.pk: (person, document)}))
    outbox.emit(**_arrival_event(stay, establishment))
    return stay


def _record_visa(person: ForeignPerson, visa: VisaIn) -> None:
    assert visa.valid_from is not None, "_check_visa fills valid_from"
    Visa.objects.update_or_create(person=person, number=visa.number, defaults={
        "kind": visa.kind, "entries": visa.entries, "valid_from": visa.valid_from, "valid_until": visa.valid_until})


def _arrival_event(stay: Stay, establishment: Establishment) -> dict[str, Any]:
    return {"topic": "immigration.arrival", "aggregate_id": str(stay.pk),
            "payload": {"stay": stay.pk, "establishment": establishment.code, "commune": establishment.commune_code}}


@dataclass
class _PendingArrival:
    line: int
    guest: GuestIn
    arrival_at: datetime
    room: str
    visa: VisaIn | None


def _bulk_arrivals(declarant: Declarant, establishment: Establishment, pending: list[_PendingArrival],
                   now: datetime, result: BatchResult) -> None:
    """Arrivals of a CSV batch: the same rules as :func:`_arrive`, with the look-ups done once per
    batch (documents, open stays, watch list) and the rows written by bulk INSERTs."""
    if not pending:
        return
    numbers = sorted({p.guest.document_number for p in pending})
    documents: dict[tuple[str, str], TravelDocument] = {}
    for start in range(0, len(numbers), 500):
        for doc in TravelDocument.objects.select_related("person").filter(number__in=numbers[start:start + 500]):
            documents[(doc.nationality, doc.number)] = doc
    earliest = min(p.arrival_at for p in pending)
    open_by_person: dict[int, list[tuple[int, int, str, datetime, datetime | None]]] = {}
    person_ids = sorted({d.person_id for d in documents.values()})
    for start in range(0, len(person_ids), 500):
        for row in (Stay.objects.filter(person_id__in=person_ids[start:start + 500])
                    .filter(Q(departure_at__isnull=True) | Q(departure_at__gt=earliest))
                    .values_list("pk", "person_id", "establishment_id", "establishment__code", "arrival_at",
                                 "departure_at")):
            open_by_person.setdefault(row[1], []).append((row[0], row[2], row[3], row[4], row[5]))
    new_people: dict[tuple[str, str], tuple[ForeignPerson, TravelDocument]] = {}
    accepted: list[tuple[_PendingArrival, tuple[str, str], list[dict[str, Any]], int]] = []
    in_batch: dict[tuple[str, str], list[tuple[int, int, str, datetime, datetime | None]]] = {}
    for item in pending:
        key = (item.guest.nationality, item.guest.document_number)
        existing = documents.get(key)
        if existing is not None and existing.person.birth_date and item.guest.birth_date \
                and existing.person.birth_date != item.guest.birth_date:
            result.errors.append(_row_error(item.line, DocumentMismatch(
                _("Số hộ chiếu đã được ghi nhận với ngày sinh khác"), field="birth_date")))
            continue
        known = (open_by_person.get(existing.person_id, []) if existing else []) + in_batch.get(key, [])
        current = [s for s in known if s[3] <= item.arrival_at and (s[4] is None or s[4] > item.arrival_at)]
        if any(s[1] == establishment.pk for s in current):
            result.errors.append(_row_error(item.line, AlreadyCheckedIn(
                _("Khách đã được khai báo đến và chưa khai báo đi"), field="document_number")))
            continue
        warnings, late = _stay_warnings(establishment, [(s[0], s[2]) for s in current], now, item.arrival_at)
        if existing is None and key not in new_people:
            guest = item.guest
            person = ForeignPerson(nationality=guest.nationality, surname=guest.surname, given_names=guest.given_names,
                                   birth_date=guest.birth_date, sex=guest.sex)
            new_people[key] = (person, TravelDocument(
                kind=guest.kind, nationality=guest.nationality, issuing_state=guest.issuing_state or guest.nationality,
                number=guest.document_number, expiry_date=guest.document_expiry, mrz=guest.mrz))
        in_batch.setdefault(key, []).append((0, establishment.pk, establishment.code, item.arrival_at, None))
        accepted.append((item, key, warnings, late))
    ForeignPerson.objects.bulk_create([p for p, _d in new_people.values()], batch_size=1000)
    for person, doc in new_people.values():
        doc.person = person
    TravelDocument.objects.bulk_create([d for _p, d in new_people.values()], batch_size=1000)
    owners = {key: (doc.person, doc) for key, doc in documents.items()} | new_people
    stays = []
    for item, key, warnings, late in accepted:
        person, doc = owners[key]
        if item.visa is not None:
            _record_visa(person, item.visa)
        stays.append(Stay(person=person, document=doc, establishment=establishment,
                          commune_code=establishment.commune_code, province_code=establishment.province_code,
                          room=item.room, arrival_at=item.arrival_at, arrival_declared_at=now,
                          arrival_late=bool(late), channel=declarant.channel, declared_by=declarant.label[:200],
                          warnings=warnings))
        result.warnings += bool(warnings)
    Stay.objects.bulk_create(stays, batch_size=1000)
    WatchHit.objects.bulk_create(_watch_hits(stays, {p.pk: (p, d) for p, d in owners.values()}), batch_size=1000)
    outbox.emit_many([_arrival_event(s, establishment) for s in stays])
    result.arrivals += len(stays)


def _row_error(line: int, exc: DomainError) -> dict[str, Any]:
    first = (exc.errors() or [{}])[0]
    code = f"mrz:{exc.check}" if isinstance(exc, mrz_lib.InvalidMrz) else exc.code
    return {"line": line, "code": code, "field": first.get("field", exc.field or ""),
            "message": first.get("message") or str(exc.detail or exc.title)}


def _depart(*, declarant: Declarant, establishment: Establishment, nationality: str, document_number: str,
            departure_at: datetime, now: datetime) -> Stay:
    if timezone.is_naive(departure_at):
        departure_at = timezone.make_aware(departure_at)
    nationality, document_number = (nationality or "").strip().upper(), (document_number or "").strip().upper()
    stay = (Stay.objects.select_for_update().filter(
        establishment=establishment, departure_at__isnull=True, document__nationality=nationality,
        document__number=document_number).order_by("-arrival_at").first())
    if stay is None:
        raise NoOpenStay(field="document_number")
    if departure_at > now + CLOCK_SKEW:
        raise ArrivalInFuture(_("Thời điểm đi ở tương lai"), field="departure_at")
    if departure_at < stay.arrival_at:
        raise DepartureBeforeArrival(_("Khách đến lúc %(a)s") % {"a": timezone.localtime(stay.arrival_at)
                                                                 .strftime("%d/%m/%Y %H:%M")},
                                     field="departure_at")
    late = _late(now, departure_at, establishment)
    stay.departure_at, stay.departure_declared_at, stay.departure_late = departure_at, now, bool(late)
    if late:
        stay.warnings = [*stay.warnings, {"code": "late_departure_declaration", "hours_late": late,
                                          "message": _("Khai báo đi quá hạn")}]
    stay.save(update_fields=["departure_at", "departure_declared_at", "departure_late", "warnings"])
    outbox.emit(topic="immigration.departure", aggregate_id=str(stay.pk),
                               payload={"stay": stay.pk, "establishment": establishment.code})
    return stay


@transaction.atomic
def declare_arrival(*, declarant: Declarant, establishment_code: str, guest: GuestIn, arrival_at: datetime,
                    room: str = "", visa: VisaIn | None = None, now: datetime | None = None) -> Stay:
    establishment = establishment_for(declarant, establishment_code)
    return _arrive(declarant=declarant, establishment=establishment, guest=guest, arrival_at=arrival_at, room=room,
                   visa=visa, now=now or timezone.now())


@transaction.atomic
def declare_departure(*, declarant: Declarant, establishment_code: str, nationality: str, document_number: str,
                      departure_at: datetime, now: datetime | None = None) -> Stay:
    establishment = establishment_for(declarant, establishment_code)
    return _depart(declarant=declarant, establishment=establishment, nationality=nationality,
                   document_number=document_number, departure_at=departure_at, now=now or timezone.now())


# --- batches (API and CSV) ------------------------------------------------------------------------
BATCH_MAX = 100


@dataclass(frozen=True)
class ArrivalIn:
    """One arrival of an API batch; ``guest`` is built by the caller from the MRZ or typed fields
    (``None`` with ``error`` set when that already failed)."""

    guest: GuestIn | None
    arrival_at: datetime
    room: str = ""
    visa: VisaIn | None = None
    error: DomainError | None = None


def declare_arrivals(*, declarant: Declarant, establishment_code: str, arrivals: list[ArrivalIn],
                     now: datetime | None = None) -> BatchResult:
    """Up to ``BATCH_MAX`` arrivals at one establishment in one transaction: the same rules as one
    declaration, checked item by item (a bad item is reported with its 1-based ``line``, the good
    ones are taken), with the look-ups done once and the rows written by bulk INSERTs."""
    now = now or timezone.now()
    if not arrivals or len(arrivals) > BATCH_MAX:
        raise _invalid("arrivals", _("Từ 1 đến %(n)d khách mỗi lần khai báo") % {"n": BATCH_MAX}, reason="batch_size")
    result = BatchResult()
    with transaction.atomic():
        establishment = establishment_for(declarant, establishment_code)
        pending: list[_PendingArrival] = []
        for line, item in enumerate(arrivals, start=1):
            try:
                if item.error is not None:
                    raise item.error
                if item.guest is None:
                    raise _invalid("mrz", _("mrz hoặc guest là bắt buộc"), reason="required")
                arrival_at, visa = _arrival_checks(item.guest, item.arrival_at, item.visa, now)
            except DomainError as exc:
                result.errors.append(_row_error(line, exc))
                continue
            pending.append(_PendingArrival(line=line, guest=item.guest, arrival_at=arrival_at,
                                           room=(item.room or "").strip()[:20], visa=visa))
        _bulk_arrivals(declarant, establishment, pending, now, result)
    result.errors.sort(key=lambda e: e["line"])
    return result


# --- CSV batch ------------------------------------------------------------------------------------
@dataclass
class BatchResult:
    arrivals: int = 0
    departures: int = 0
    warnings: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.arrivals + self.departures


def _date(row: dict[str, str], name: str) -> date | None:
    value = (row.get(name) or "").strip()
    if not value:
        return None
    try:
        parsed = parse_date(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise _invalid(name, _("Ngày không hợp lệ (YYYY-MM-DD): %(v)s") % {"v": value[:20]})
    return parsed


def _datetime(row: dict[str, str], name: str = "at") -> datetime:
    value = (row.get(name) or "").strip()
    try:
        parsed = parse_datetime(value) if value else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise _invalid(name, _("Thời điểm không hợp lệ (YYYY-MM-DDTHH:MM): %(v)s") % {"v": value[:30]})
    return parsed


def _row_guest(row: dict[str, str]) -> GuestIn:
    if (row.get("mrz") or "").strip():
        return guest_from_mrz(row["mrz"].replace("|", "\n"))
    return guest_from_fields(nationality=row.get("nationality", ""), document_number=row.get("document_number", ""),
                             surname=row.get("surname", ""), given_names=row.get("given_names", ""),
                             birth_date=_date(row, "birth_date"), sex=row.get("sex", ""),
                             document_expiry=_date(row, "document_expiry"))


def _row_visa(row: dict[str, str]) -> VisaIn | None:
    if not (row.get("visa_number") or "").strip():
        return None
    valid_until = _date(row, "visa_valid_until")
    if valid_until is None:
        raise InvalidVisa(_("Ngày hết hạn thị thực bắt buộc"), field="visa_valid_until")
    return VisaIn(number=row["visa_number"], valid_until=valid_until, valid_from=_date(row, "visa_valid_from"),
                  kind=(row.get("visa_kind") or VisaKind.E_VISA).strip(),
                  entries=(row.get("visa_entries") or Entries.SINGLE).strip())


def import_csv(*, declarant: Declarant, establishment_code: str, text: str, now: datetime | None = None
               ) -> BatchResult:
    """Declarations from a CSV (header: :data:`CSV_COLUMNS`, ``event`` = arrival|departure, ``mrz``
    lines joined by ``|`` or the typed fields). Each good row is taken in its own savepoint; each
    bad row is reported by its line number (the header is line 1) with the error code."""
    establishment = establishment_for(declarant, establishment_code)
    now = now or timezone.now()
    result = BatchResult()
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = {"event", "at"} - set(header)
    unknown = set(header) - set(CSV_COLUMNS)
    if missing or unknown:
        raise _invalid("file", _("Dòng tiêu đề phải gồm các cột: %(c)s") % {"c": ", ".join(CSV_COLUMNS)},
                       reason="bad_header")
    reader.fieldnames = header
    pending: list[_PendingArrival] = []
    with transaction.atomic():
        for index, row in enumerate(reader):
            line = reader.line_num
            if index >= CSV_MAX_ROWS:
                raise _invalid("file", _("Tối đa %(n)d dòng mỗi tệp") % {"n": CSV_MAX_ROWS}, reason="too_many_rows")
            try:
                if None in row:
                    raise _invalid("row", _("Dòng có nhiều cột hơn tiêu đề"), reason="extra_columns")
                event = (row.get("event") or "").strip().lower()
                if event == "arrival":
                    guest = _row_guest(row)
                    arrival_at, visa = _arrival_checks(guest, _datetime(row), _row_visa(row), now)
                    pending.append(_PendingArrival(line=line, guest=guest, arrival_at=arrival_at,
                                                   room=(row.get("room") or "").strip()[:20], visa=visa))
                elif event == "departure":
                    _bulk_arrivals(declarant, establishment, pending, now, result)  # keep the file's order
                    pending = []
                    if (row.get("mrz") or "").strip():
                        guest = guest_from_mrz(row["mrz"].replace("|", "\n"))
                        nationality, number = guest.nationality, guest.document_number
                    else:
                        nationality, number = row.get("nationality") or "", row.get("document_number") or ""
                    with transaction.atomic():
                        _depart(declarant=declarant, establishment=establishment, nationality=nationality,
                                document_number=number, departure_at=_datetime(row), now=now)
                    result.departures += 1
                else:
                    raise _invalid("event", _("Cột event phải là arrival hoặc departure"))
            except DomainError as exc:
                result.errors.append(_row_error(line, exc))
        _bulk_arrivals(declarant, establishment, pending, now, result)
    result.errors.sort(key=lambda e: e["line"])
    return result


# --- establishments and staff (police of the commune) ---------------------------------------------
@transaction.atomic
def register_establishment(*, actor: Actor, code: str, name: str, commune_code: str, address: str,
                           kind: str = EstablishmentKind.HOTEL, remote_area: bool = False,
                           subsystem: Any = None) -> Establishment:
    actor.require_write()
    if not admin_units.is_active_commune(commune_code):
        raise _invalid("commune_code", _("Mã xã/phường không tồn tại"))
    if not actor.covers_commune(commune_code):
        raise PermissionDenied(_("Xã/phường ngoài phạm vi quản lý"))
    code, name, address = (code or "").strip().lower(), (name or "").strip(), (address or "").strip()
    if not code or len(code) > 40 or not all(c.isascii() and (c.isalnum() or c == "-") for c in code):
        raise _invalid("code", _("Mã cơ sở gồm chữ thường, số và dấu gạch ngang, tối đa 40 ký tự"))
    if not name or not address:
        raise _invalid("name" if not name else "address", _("Trường này là bắt buộc"), reason="required")
    if kind not in EstablishmentKind.values:
        raise _invalid("kind", _("Loại cơ sở không hợp lệ"))
    if Establishment.objects.filter(code=code).exists():
        raise _invalid("code", _("Mã cơ sở đã được dùng"), reason="duplicate")
    return Establishment.objects.create(code=code, name=name[:200], kind=kind, commune_code=commune_code,
                                        province_code=admin_units.province_of_commune(commune_code) or "",
                                        address=address[:300], remote_area=remote_area, subsystem=subsystem,
                                        registered_by=actor.label[:200])


@transaction.atomic
def add_staff(*, actor: Actor, establishment: Establishment, id_number: str) -> EstablishmentStaff:
    """Link a citizen's identity account to the establishment (they must have an account)."""
    from popid.identity.models import CitizenAccount

    actor.require_write()
    if not actor.covers_commune(establishment.commune_code):
        raise EstablishmentNotFound()
    account = CitizenAccount.objects.filter(user__username=(id_number or "").strip()).first()
    if account is None:
        raise _invalid("id_number", _("Công dân chưa có tài khoản định danh điện tử"), reason="no_account")
    link, _created = EstablishmentStaff.objects.update_or_create(
        establishment=establishment, account=account, defaults={"is_active": True, "added_by": actor.label[:200]})
    return link


# --- watch list -----------------------------------------------------------------------------------
TOPIC_WATCH_ENTRY = "immigration.watch_entry_added"


def _watch_hits(stays: list[Stay], owners: dict[int, tuple[ForeignPerson, TravelDocument]]) -> list[WatchHit]:
    """The cheap exact check done in the declaration: nationality + document number, or nationality +
    surname + given names + birth date. One query per batch. The probabilistic matcher
    (``screening``) runs after it, in the background, over every declared guest."""
    nationalities = {owners[s.person_id][0].nationality for s in stays}
    entries = list(WatchListEntry.objects.filter(is_active=True, nationality__in=nationalities)) if stays else []
    if not entries:
        return []
    by_document = {(e.nationality, e.document_number): e for e in entries if e.document_number}
    by_name: dict[tuple[str, str, str, date | None], WatchListEntry] = {
        (e.nationality, e.surname, e.given_names, e.birth_date): e for e in entries if e.birth_date}
    hits = []
    for stay in stays:
        person, document = owners[stay.person_id]
        entry = by_document.get((person.nationality, document.number))
        matched_on = "document"
        if entry is None:
            entry = by_name.get((person.nationality, person.surname, person.given_names, person.birth_date))
            matched_on = "name_birth_date"
        if entry is not None:
            hits.append(WatchHit(entry=entry, stay=stay, matched_on=matched_on, commune_code=stay.commune_code,
                                 province_code=stay.province_code))
    return hits


@transaction.atomic
def add_watch_entry(*, actor: Actor, nationality: str, surname: str, reason: str, document_number: str = "",
                    given_names: str = "", birth_date: date | None = None) -> WatchListEntry:
    actor.require_write()
    nationality = (nationality or "").strip().upper()
    if len(nationality) != 3 or not nationality.isalpha():
        raise _invalid("nationality", _("Quốc tịch là mã 3 chữ cái"))
    if not (surname or "").strip() or not (reason or "").strip():
        raise _invalid("surname" if not (surname or "").strip() else "reason", _("Trường này là bắt buộc"),
                       reason="required")
    entry = WatchListEntry.objects.create(
        nationality=nationality, document_number=(document_number or "").strip().upper(),
        surname=" ".join(surname.split()).upper(), given_names=" ".join((given_names or "").split()).upper(),
        birth_date=birth_date, reason=reason.strip()[:300], added_by=actor.label[:200])
    # the guests present now are screened against the new entry by the matcher (tasks.screen_new_entry)
    outbox.emit(topic=TOPIC_WATCH_ENTRY, aggregate_id=str(entry.pk), payload={"entry": entry.pk})
    return entry


@transaction.atomic
def review_hit(*, actor: Actor, hit_id: int, note: str) -> WatchHit:
    actor.require(Permission.IMMIGRATION_REVIEW)
    hit = WatchHit.objects.select_for_update().filter(pk=hit_id).first()
    if hit is None or not actor.covers_commune(hit.commune_code):
        raise WatchHitNotFound()
    hit.status, hit.reviewed_by, hit.review_note = AlertStatus.REVIEWED, actor.label[:200], (note or "").strip()[:300]
    hit.save(update_fields=["status", "reviewed_by", "review_note"])
    return hit


# --- passports for citizens ------------------------------------------------------------------------
PASSPORT_PREFIX = "C"
TOPIC_PASSPORT_STATUS = "immigration.passport_status"  # payload {"status": "lost"}; aggregate = number


@transaction.atomic
def issue_passport(*, actor: Actor, id_number: str, reason: str = "", today: date | None = None) -> Passport:
    """The passport record of an approved ``passport`` dossier (run inside the approval's
    transaction): number ``C`` + 7 digits from the row id, valid 10 years (5 under 14, Law on Exit
    and Entry of Vietnamese Citizens 2019, Art. 7), the TD3 MRZ with the ID number as optional
    data. The name is split as Vietnamese names are: surname = the first word."""
    from popid.registry.models import Person

    actor.require_write()
    person = Person.objects.filter(id_number=(id_number or "").strip()).first()
    if person is None or not actor.covers_commune(person.commune_code):
        raise _invalid("id_number", _("Không tìm thấy công dân"), reason="not_found")
    if person.birth_date is None:
        raise _invalid("birth_date", _("Sổ dân cư chưa có ngày sinh đầy đủ"), reason="missing")
    today = today or timezone.localdate()
    age = today.year - person.birth_date.year - ((today.month, today.day) < (person.birth_date.month,
                                                                            person.birth_date.day))
    years = 5 if age < 14 else 10
    try:
        expiry = today.replace(year=today.year + years)
    except ValueError:  # 29 February
        expiry = today.replace(year=today.year + years, day=28)
    passport = Passport.objects.create(person=person, number="T" + secrets.token_hex(4),
                                       issued_on=today, expiry_date=expiry, mrz="", issued_by=actor.label[:200],
                                       reason=(reason or "")[:300])
    passport.number = f"{PASSPORT_PREFIX}{passport.pk:07d}"[-9:]
    surname, _sep, given = person.full_name.strip().partition(" ")
    passport.mrz = "\n".join(mrz_lib.passport_mrz(
        document_number=passport.number, surname=surname, given_names=given, birth_date=person.birth_date,
        sex=person.sex, expiry_date=expiry, id_number=person.id_number))
    passport.save(update_fields=["number", "mrz"])
    outbox.emit(topic="immigration.passport_issued", aggregate_id=str(passport.pk),
                               payload={"passport": passport.pk})
    return passport


def passports_of(actor: Actor, person: Any) -> list[Passport]:
    """The passports of a person the actor may read (a citizen: their own and their wards')."""
    if not actor.may_read_person(person):
        return []
    return list(Passport.objects.filter(person=person).select_related("loss").order_by("-issued_on", "-pk"))


@transaction.atomic
def declare_passport_lost(*, actor: Actor, number: str, lost_on: date, place: str, circumstances: str = "",
                          channel: str = "web", today: date | None = None) -> PassportLoss:
    """The holder (or their guardian, or an officer at the counter) declares a passport lost
    (Law on Exit and Entry of Vietnamese Citizens 2019, Art. 28). Its validity is cancelled at
    once (Art. 27.1): the record turns ``lost`` and, in the same transaction, the outbox event the
    wallet consumes (``TOPIC_PASSPORT_STATUS``) is written, so the credential's status-list bit
    is set before any verifier can ask again. A lost passport cannot be declared twice."""
    today = today or timezone.localdate()
    passport = (Passport.objects.select_for_update().select_related("person")
                .filter(number=(number or "").strip().upper()[:9]).first())
    if passport is None or not actor.may_read_person(passport.person):
        raise PassportNotFound(field="number")  # another person's passport looks like none at all
    if not actor.is_citizen:
        actor.require_write()
    if passport.status == PassportStatus.LOST:
        raise PassportAlreadyLost(field="number")
    place = " ".join((place or "").split())
    errors = []
    if lost_on is None or lost_on > today:
        errors.append({"field": "lost_on", "reason": "invalid", "message": _("Ngày mất không được ở tương lai")})
    elif lost_on < passport.issued_on:
        errors.append({"field": "lost_on", "reason": "invalid",
                       "message": _("Ngày mất trước ngày cấp hộ chiếu")})
    if not place or len(place) > 200:
        errors.append({"field": "place", "reason": "required", "message": _("Nơi mất bắt buộc, tối đa 200 ký tự")})
    if len(circumstances or "") > 500:
        errors.append({"field": "circumstances", "reason": "too_long", "message": _("Tối đa 500 ký tự")})
    if errors:
        raise ValidationFailed(errors)
    passport.status = PassportStatus.LOST
    passport.save(update_fields=["status"])
    loss = PassportLoss.objects.create(passport=passport, lost_on=lost_on, place=place,
                                       circumstances=(circumstances or "").strip(), declared_by=actor.label[:200],
                                       channel=channel[:10])
    outbox.emit(topic=TOPIC_PASSPORT_STATUS, aggregate_id=passport.number,
                payload={"status": PassportStatus.LOST, "passport": passport.pk})
    return loss


# --- residence cards (foreigners) ---------------------------------------------------------------------
# Law on Entry, Exit, Transit and Residence of Foreigners in Vietnam (47/2014/QH13 as amended by
# 51/2019/QH14), Art. 38: the card's term by the purpose (visa symbol) it follows, and at least 30
# days shorter than the remaining validity of the passport.
TRC_MAX_YEARS = {"ĐT1": 10, "NG3": 5, "LV1": 5, "LV2": 5, "LS": 5, "ĐT2": 5, "DH": 5, "NN1": 3, "NN2": 3,
                 "ĐT3": 3, "TT": 3, "LĐ1": 2, "LĐ2": 2, "PV1": 2}
PERMANENT_CARD_YEARS = 10
PASSPORT_MARGIN_DAYS = 30


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def issue_residence_card(*, actor: Actor, nationality: str, document_number: str, number: str, purpose: str,
                         valid_from: date, valid_until: date, issuing_unit: str, commune_code: str,
                         address: str = "", kind: str = ResidenceCardKind.TEMPORARY) -> TemporaryResidenceCard:
    """Record a temporary (or permanent) residence card for a foreigner known by a travel document."""
    actor.require(Permission.IMMIGRATION_WRITE)
    document = (TravelDocument.objects.select_related("person")
                .filter(nationality=(nationality or "").strip().upper(),
                        number=(document_number or "").strip().upper()).first())
    if document is None:
        raise ForeignPersonNotFound(field="document_number")
    if not admin_units.is_active_commune(commune_code):
        raise _invalid("commune_code", _("Mã xã/phường không tồn tại"))
    if not actor.covers_commune(commune_code):
        raise PermissionDenied(_("Xã/phường ngoài phạm vi quản lý"))
    number = (number or "").strip().upper()
    purpose = (purpose or "").strip().upper()
    issuing_unit = " ".join((issuing_unit or "").split())
    errors = []
    if not (4 <= len(number) <= 20) or not number.isalnum() or not number.isascii():
        errors.append({"field": "number", "reason": "invalid", "message": _("Số thẻ gồm 4–20 chữ cái/chữ số")})
    elif TemporaryResidenceCard.objects.filter(number=number).exists():
        errors.append({"field": "number", "reason": "duplicate", "message": _("Số thẻ đã được cấp")})
    if kind not in ResidenceCardKind.values:
        errors.append({"field": "kind", "reason": "invalid", "message": _("Loại thẻ không hợp lệ")})
    if kind == ResidenceCardKind.TEMPORARY and purpose not in TRC_MAX_YEARS:
        errors.append({"field": "purpose", "reason": "invalid",
                       "message": _("Mục đích (ký hiệu) được cấp thẻ tạm trú: %(p)s")
                       % {"p": ", ".join(TRC_MAX_YEARS)}})
    if not issuing_unit or len(issuing_unit) > 200:
        errors.append({"field": "issuing_unit", "reason": "required", "message": _("Cơ quan cấp thẻ bắt buộc")})
    if valid_from is None or valid_until is None or valid_until <= valid_from:
        errors.append({"field": "valid_until", "reason": "invalid",
                       "message": _("Ngày hết hạn phải sau ngày có giá trị")})
    elif kind == ResidenceCardKind.TEMPORARY and purpose in TRC_MAX_YEARS \
            and valid_until > _years_after(valid_from, TRC_MAX_YEARS[purpose]):
        errors.append({"field": "valid_until", "reason": "too_long",
                       "message": _("Thẻ tạm trú ký hiệu %(p)s có thời hạn tối đa %(n)d năm")
                       % {"p": purpose, "n": TRC_MAX_YEARS[purpose]}})
    elif kind == ResidenceCardKind.PERMANENT and valid_until > _years_after(valid_from, PERMANENT_CARD_YEARS):
        errors.append({"field": "valid_until", "reason": "too_long",
                       "message": _("Thẻ thường trú có thời hạn tối đa %(n)d năm") % {"n": PERMANENT_CARD_YEARS}})
    elif kind == ResidenceCardKind.TEMPORARY and document.expiry_date is not None \
            and valid_until > document.expiry_date - timedelta(days=PASSPORT_MARGIN_DAYS):
        errors.append({"field": "valid_until", "reason": "passport_validity",
                       "message": _("Thẻ tạm trú phải hết hạn trước hộ chiếu (%(d)s) ít nhất %(n)d ngày")
                       % {"d": document.expiry_date.isoformat(), "n": PASSPORT_MARGIN_DAYS}})
    if errors:
        raise ValidationFailed(errors)
    card = TemporaryResidenceCard.objects.create(
        person=document.person, kind=kind, number=number, purpose=purpose, valid_from=valid_from,
        valid_until=valid_until, issuing_unit=issuing_unit, address=" ".join((address or "").split())[:300],
        commune_code=commune_code, province_code=admin_units.province_of_commune(commune_code) or "",
        issued_by=actor.label[:200])
    outbox.emit(topic="immigration.residence_card", aggregate_id=str(card.pk), payload={"card": card.pk})
    return card


# --- border gates -------------------------------------------------------------------------------
@transaction.atomic
def record_border_event(*, recorded_by: str, kind: str, guest: GuestIn, gate: str, at: datetime,
                        visa: VisaIn | None = None, now: datetime | None = None) -> BorderEvent:
    """An entry (passport valid on the day, the visa recorded) or an exit (not before the latest
    entry) of a foreign person at a border gate."""
    now = now or timezone.now()
    gate = (gate or "").strip()
    if kind not in BorderEventKind.values:
        raise _invalid("kind", _("kind phải là entry hoặc exit"))
    if not gate or len(gate) > 40:
        raise _invalid("gate", _("Mã cửa khẩu bắt buộc, tối đa 40 ký tự"), reason="required")
    if guest.nationality == "VNM":
        raise VietnameseGuest(_("Công dân Việt Nam xuất nhập cảnh được ghi nhận theo Luật Xuất cảnh, nhập cảnh "
                                "của công dân Việt Nam"), field="nationality")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + CLOCK_SKEW:
        raise ArrivalInFuture(_("Thời điểm ở tương lai"), field="at")
    day = timezone.localtime(at).date()
    visa_row = None
    if kind == BorderEventKind.ENTRY:
        if guest.document_expiry is not None and guest.document_expiry < day:
            raise PassportExpired(field="document_expiry")
        visa = _check_visa(visa, day)
    person, document = _person_and_document(guest)
    if kind == BorderEventKind.EXIT:
        last_entry = (BorderEvent.objects.filter(person=person, kind=BorderEventKind.ENTRY)
                      .order_by("-at").values_list("at", flat=True).first())
        if last_entry is not None and at < last_entry:
            raise BorderEventOrder(field="at")
    elif visa is not None:
        _record_visa(person, visa)
        visa_row = Visa.objects.get(person=person, number=visa.number)
    event = BorderEvent.objects.create(person=person, document=document, kind=kind, gate=gate, at=at,
                                       visa=visa_row, recorded_by=recorded_by[:200])
    outbox.emit(topic=f"immigration.border_{kind}", aggregate_id=str(event.pk),
                               payload={"event": event.pk, "gate": gate})
    return event


# --- overstays ------------------------------------------------------------------------------------
@dataclass
class OverstayResult:
    created: int
    open_total: int


def _overstay_sql(vendor: str) -> str:
    """One INSERT … SELECT: the database does the whole computation (5 million stays do not pass
    through Python). Tables are Django's defaults for the models."""
    if vendor == "postgresql":
        days = "(CAST(%(today)s AS date) - p.valid_until)"
    else:
        days = "CAST(julianday(%(today)s) - julianday(p.valid_until) AS INTEGER)"
    return f"""
    INSERT INTO immigration_overstayalert
        (person_id, visa_id, residence_card_id, valid_until, stay_id, commune_code, province_code, days_over,
         computed_on, status, reviewed_by)
    SELECT s.person_id, p.visa_id, p.card_id, p.valid_until, s.id, s.commune_code, s.province_code, {days},
           %(today)s, %(open)s, ''
    FROM immigration_stay s
    JOIN (SELECT person_id, visa_id, card_id, valid_until,
                 ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY valid_until DESC, card_id DESC, visa_id DESC) rn
          FROM (SELECT person_id, id AS visa_id, NULL AS card_id, valid_until FROM immigration_visa
                UNION ALL
                SELECT person_id, NULL, id, valid_until FROM immigration_temporaryresidencecard
                WHERE is_active AND valid_until IS NOT NULL) permissions) p
      ON p.person_id = s.person_id AND p.rn = 1
    LEFT JOIN (SELECT person_id, kind,
                      ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY at DESC, id DESC) rn
               FROM immigration_borderevent) b
      ON b.person_id = s.person_id AND b.rn = 1
    WHERE s.departure_at IS NULL AND p.valid_until < %(today)s AND (b.kind IS NULL OR b.kind <> %(exit)s)
      AND NOT EXISTS (SELECT 1 FROM immigration_overstayalert a WHERE a.stay_id = s.id
                      AND (a.visa_id = p.visa_id OR a.residence_card_id = p.card_id))
    """  # noqa: S608 - the only interpolation is one of two fixed expressions; values are parameters


def compute_overstays(*, today: date | None = None) -> OverstayResult:
    """For every stay with no departure whose guest's latest permission to stay (visa, e-visa,
    exemption or residence card) ended before ``today`` and who has not exited the country (latest
    border event an exit): one alert per (permission, stay), idempotent. Set-based in SQL."""
    from django.db import connection

    today = today or timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_overstay_sql(connection.vendor),
                       {"today": today, "open": AlertStatus.OPEN, "exit": BorderEventKind.EXIT})
        created = max(cursor.rowcount, 0)
    return OverstayResult(created=created, open_total=OverstayAlert.objects.filter(status=AlertStatus.OPEN).count())
