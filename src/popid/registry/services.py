"""Registry commands: the only way registry data changes.

Each command is one transaction that checks the actor's jurisdiction, validates, locks the
person (``select_for_update`` plus the ``version`` column for optimistic locking), changes the
rows, writes a ``HistoryEntry`` (actor, time, reason, legal reference, before/after) and an
``OutboxEvent``. A failed check raises a typed ``DomainError`` and leaves nothing written.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ForeignObjectRel
from django.utils.translation import gettext as _

from popid.core import admin_units, outbox
from popid.core.access import Actor
from popid.core.errors import PermissionDenied, ValidationFailed
from popid.core.id_numbers import InvalidIdNumber, generate_id_number, parse_id_number
from popid.core.permissions import Permission
from popid.core.text import normalize_text
from popid.registry import validation as v
from popid.registry.errors import (
    ChildBornBeforeParent,
    DeathBeforeBirth,
    HouseholdNotFound,
    IdNumberUnavailable,
    ImpossibleDate,
    InvalidCode,
    InvalidState,
    MergeRefused,
    PersonNotFound,
    StaleVersion,
)
from popid.registry.models import (
    CancelledIdNumber,
    DatePrecision,
    FamilyRelation,
    HistoryEntry,
    Household,
    HouseholdMember,
    HouseholdRelationship,
    MaritalStatus,
    Person,
    PersonMerge,
    PersonStatus,
    RelationKind,
    Residence,
    ResidenceKind,
    Sex,
    VitalEvent,
)

MAX_TEMPORARY_RESIDENCE = timedelta(days=2 * 366)  # Law on Residence 2020 Art. 27: up to 2 years
MARRIAGE_AGE = {Sex.MALE: 20, Sex.FEMALE: 18}  # Law on Marriage and Family 2014 Art. 8
PERSON_FIELDS = [
    "id_number", "full_name", "birth_date", "birth_year", "birth_date_precision", "sex", "birth_place",
    "birth_registration_commune_code", "birth_registration_province_code", "hometown", "ethnicity_code",
    "religion_code", "nationality", "blood_type", "old_id_number", "absence_status", "absence_until",
    "residence_file_number", "marital_status", "status", "died_on", "missing_since", "phone", "email",
    "commune_code", "province_code",
]
CORRECTABLE_FIELDS = {
    "full_name", "birth_date", "birth_place", "hometown", "ethnicity_code", "religion_code", "nationality",
    "blood_type", "old_id_number", "phone", "email", "marital_status",
}


# --- helpers shared by the commands -----------------------------------------------------------
def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def snapshot(person: Person) -> dict[str, Any]:
    """The person's registry fields as JSON, for history before/after."""
    return {name: _json(getattr(person, name)) for name in PERSON_FIELDS}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _write_history(
    *, actor: Actor, person: Person, command: str, reason: str, legal_ref: str,
    before: dict[str, Any], after: dict[str, Any],
) -> HistoryEntry:
    return HistoryEntry.objects.create(
        person=person, actor=actor.label, actor_unit=actor.unit_name or actor.unit_code, command=command,
        reason=reason, legal_ref=legal_ref, before=before, after=after, version=person.version,
    )


def _emit(topic: str, aggregate_id: str, **payload: Any) -> None:
    outbox.emit(topic=topic, aggregate_id=aggregate_id, payload={k: _json(val) for k, val in payload.items()})


def _require_reason(reason: str, legal_ref: str, *, need_legal_ref: bool = False) -> None:
    errors = []
    if not (reason or "").strip():
        errors.append({"field": "reason", "reason": "required", "message": _("Cần ghi lý do")})
    if need_legal_ref and not (legal_ref or "").strip():
        errors.append({"field": "legal_ref", "reason": "required", "message": _("Cần ghi căn cứ pháp lý")})
    if errors:
        raise ValidationFailed(errors)


def _lock_person(
    *, actor: Actor, id_number: str, expected_version: int | None = None, moving_in: bool = False,
) -> Person:
    """Fetch for update inside the caller's transaction; 'missing' and 'not yours' look alike.

    ``moving_in``: residence registration is processed by the police of the *destination*
    commune (already checked by the caller), so the person may live elsewhere today.
    """
    actor.require(Permission.REGISTRY_WRITE)
    person = Person.objects.select_for_update().filter(id_number=id_number).first()
    if person is None or not (moving_in or actor.covers_commune(person.commune_code)):
        raise PersonNotFound(_("Không tìm thấy công dân có số định danh %(id)s") % {"id": id_number},
                             field="id_number")
    if expected_version is not None and person.version != expected_version:
        raise StaleVersion(
            _("Phiên bản %(expected)d đã cũ, phiên bản hiện tại là %(current)d")
            % {"expected": expected_version, "current": person.version},
            field="version", current_version=person.version,
        )
    return person


def _save(person: Person, fields: Iterable[str]) -> None:
    person.version += 1
    person.save(update_fields=[*fields, "version", "updated_at"])


def _require_covers(actor: Actor, commune_code: str, *, field: str = "commune_code") -> None:
    actor.require(Permission.REGISTRY_WRITE)
    if not actor.covers_commune(commune_code):
        raise PermissionDenied(_("Đơn vị %(code)s nằm ngoài địa bàn quản lý của bạn") % {"code": commune_code},
                               field=field)


def _new_id_number(*, province_code: str, sex: str, birth_year: int) -> str:
    prefix = admin_units.id_prefix_for_province(province_code)
    rng = random.SystemRandom()
    for _attempt in range(20):
        candidate = generate_id_number(prefix, sex, birth_year, rng)
        if not Person.objects.filter(id_number=candidate).exists() and \
                not CancelledIdNumber.objects.filter(id_number=candidate).exists():
            return candidate
    raise IdNumberUnavailable(_("Hết số định danh khả dụng cho tổ hợp này"))


def _household_for_update(code: str, *, actor: Actor) -> Household:
    household = Household.objects.select_for_update().filter(code=code, dissolved_on__isnull=True).first()
    if household is None or not actor.covers_commune(household.commune_code):
        raise HouseholdNotFound(_("Không tìm thấy hộ %(code)s") % {"code": code}, field="household_code")
    return household


def _new_household_code(commune_code: str) -> str:
    rng = random.SystemRandom()
    for _attempt in range(20):
        code = f"HK{commune_code}{rng.randrange(10**8):08d}"
        if not Household.objects.filter(code=code).exists():
            return code
    raise IdNumberUnavailable(_("Không cấp được mã hộ"))


def _leave_household(person: Person, on: date) -> None:
    HouseholdMember.objects.filter(person=person, left_on__isnull=True).update(left_on=on)


def _end_residence(person: Person, kind: str, on: date) -> Residence | None:
    current = Residence.objects.filter(person=person, kind=kind, ended_on__isnull=True).first()
    if current is not None:
        current.ended_on = max(on, current.valid_from)
        current.save(update_fields=["ended_on"])
    return current


def _set_home(person: Person) -> list[str]:
    """Jurisdiction follows permanent residence, else current/temporary, else birth registration."""
    for kind in (ResidenceKind.PERMANENT, ResidenceKind.CURRENT, ResidenceKind.TEMPORARY):
        residence = Residence.objects.filter(person=person, kind=kind, ended_on__isnull=True).first()
        if residence is not None:
            person.commune_code, person.province_code = residence.commune_code, residence.province_code
            return ["commune_code", "province_code"]
    person.commune_code = person.birth_registration_commune_code
    person.province_code = person.birth_registration_province_code
    return ["commune_code", "province_code"]


def _relate(person: Person, kind: str, relative: Person, valid_from: date | None = None) -> None:
    FamilyRelation.objects.create(
        person=person, kind=kind, relative=relative, relative_name=relative.full_name,
        relative_id_number=relative.id_number, relative_nationality=relative.nationality, valid_from=valid_from,
    )


# --- commands ---------------------------------------------------------------------------------
@transaction.atomic
def register_birth(
    *, actor: Actor, full_name: str, birth_date: date, sex: str, birth_place: str,
    birth_registration_commune_code: str, hometown: str, ethnicity_code: str, nationality: str = "VN",
    religion_code: str = "00", father_id_number: str | None = None, mother_id_number: str | None = None,
    father_name: str = "", mother_name: str = "", father_nationality: str = "VN", mother_nationality: str = "VN",
    household_code: str | None = None, reason: str = "Đăng ký khai sinh", legal_ref: str = "",
) -> Person:
    """Register a birth and issue the personal ID number (Decree 137/2015 Art. 14).

    The number's prefix is the province of birth registration; the child joins the given
    household, or the mother's (else the father's) household, and takes its permanent residence.
    """
    _require_reason(reason, legal_ref)
    name = v.require_name(full_name)
    if sex not in Sex.values:
        raise ValidationFailed([{"field": "sex", "reason": "invalid", "message": _("Giới tính là M hoặc F")}])
    v.require_not_future(birth_date, field="birth_date")
    unit = v.require_commune(birth_registration_commune_code, field="birth_registration_commune_code")
    _require_covers(actor, unit.code, field="birth_registration_commune_code")
    v.require_ethnicity(ethnicity_code)
    v.require_religion(religion_code)
    v.require_nationality(nationality)
    if not (hometown or "").strip():
        raise ValidationFailed([{"field": "hometown", "reason": "required", "message": _("Cần ghi quê quán")}])

    parents: dict[str, Person] = {}
    kind: str
    for kind, id_number in ((RelationKind.FATHER, father_id_number), (RelationKind.MOTHER, mother_id_number)):
        if not id_number:
            continue
        parent = Person.objects.select_for_update().filter(id_number=id_number).first()
        if parent is None:
            raise PersonNotFound(_("Không tìm thấy cha/mẹ có số định danh %(id)s") % {"id": id_number},
                                 field=f"{kind}_id_number")
        parent_born = parent.birth_date or date(parent.birth_year, 1, 1)
        if parent_born >= birth_date:
            raise ChildBornBeforeParent(_("Con không thể sinh trước hoặc cùng ngày với cha/mẹ"),
                                        field=f"{kind}_id_number")
        parents[kind] = parent
    if not parents and not (father_name or mother_name):
        raise ValidationFailed([{"field": "mother_name", "reason": "required",
                                 "message": _("Cần ít nhất họ tên cha hoặc mẹ")}])

    id_number = _new_id_number(province_code=unit.province_code or "", sex=sex, birth_year=birth_date.year)
    person = Person.objects.create(
        id_number=id_number, full_name=name, name_norm=normalize_text(name), birth_date=birth_date,
        birth_year=birth_date.year, birth_date_precision=DatePrecision.DAY, sex=sex, birth_place=birth_place.strip(),
        birth_registration_commune_code=unit.code, birth_registration_province_code=unit.province_code or "",
        hometown=hometown.strip(), ethnicity_code=ethnicity_code, religion_code=religion_code,
        nationality=nationality, marital_status="", commune_code=unit.code, province_code=unit.province_code or "",
    )
    for parent_kind, parent in parents.items():
        _relate(person, parent_kind, parent, birth_date)
        _relate(parent, RelationKind.CHILD, person, birth_date)
    for kind, parent_name, parent_nationality in (
        (RelationKind.FATHER, father_name, father_nationality), (RelationKind.MOTHER, mother_name, mother_nationality),
    ):
        if kind not in parents and parent_name:
            FamilyRelation.objects.create(person=person, kind=kind, relative_name=v.require_name(
                parent_name, field=f"{kind}_name"), relative_nationality=parent_nationality, valid_from=birth_date)

    household = None
    if household_code:
        household = _household_for_update(household_code, actor=actor)
    else:
        for parent in (parents.get(RelationKind.MOTHER), parents.get(RelationKind.FATHER)):
            membership = parent and HouseholdMember.objects.filter(person=parent, left_on__isnull=True).first()
            if membership:
                household = membership.household
                break
    if household is not None:
        HouseholdMember.objects.create(household=household, person=person, joined_on=birth_date,
                                       relationship=_relationship_to_head(person, household))
        Residence.objects.create(person=person, kind=ResidenceKind.PERMANENT, address=household.address,
                                 commune_code=household.commune_code, province_code=household.province_code,
                                 household=household, valid_from=birth_date)
        person.commune_code, person.province_code = household.commune_code, household.province_code
        person.save(update_fields=["commune_code", "province_code"])
    VitalEvent.objects.create(person=person, kind="birth", occurred_on=birth_date, commune_code=unit.code)
    _write_history(actor=actor, person=person, command="register_birth", reason=reason, legal_ref=legal_ref,
                   before={}, after=snapshot(person))
    _emit("person.born", person.id_number, commune_code=person.commune_code, birth_date=birth_date)
    return person


def _relationship_to_head(person: Person, household: Household) -> str:
    head = household.head
    if head is None:
        return HouseholdRelationship.HEAD
    kinds = set(FamilyRelation.objects.filter(person=person, relative=head).values_list("kind", flat=True))
    if kinds & {RelationKind.FATHER, RelationKind.MOTHER}:
        return HouseholdRelationship.CHILD
    if RelationKind.SPOUSE in kinds:
        return HouseholdRelationship.SPOUSE
    if RelationKind.CHILD in kinds:
        return HouseholdRelationship.PARENT
    grandparents = FamilyRelation.objects.filter(
        person__in=FamilyRelation.objects.filter(person=person, kind__in=[RelationKind.FATHER, RelationKind.MOTHER],
                                                 relative__isnull=False).values("relative"),
        relative=head, kind__in=[RelationKind.FATHER, RelationKind.MOTHER])
    return HouseholdRelationship.GRANDCHILD if grandparents.exists() else HouseholdRelationship.OTHER


@transaction.atomic
def record_death(
    *, actor: Actor, id_number: str, died_on: date, reason: str, legal_ref: str = "",
    expected_version: int | None = None,
) -> Person:
    """Đăng ký khai tử: the person is deceased, residences and household membership end,
    a married spouse becomes widowed."""
    _require_reason(reason, legal_ref)
    person = _lock_person(actor=actor, id_number=id_number, expected_version=expected_version)
    if person.status == PersonStatus.DECEASED:
        raise InvalidState(_("Công dân đã được khai tử"))
    v.require_not_future(died_on, field="died_on")
    if died_on < (person.birth_date or date(person.birth_year, 1, 1)):
        raise DeathBeforeBirth(_("Ngày chết %(d)s trước ngày sinh") % {"d": died_on.isoformat()}, field="died_on")
    before = snapshot(person)
    person.status, person.died_on = PersonStatus.DECEASED, died_on
    for kind in ResidenceKind.values:
        _end_residence(person, kind, died_on)
    _leave_household(person, died_on)
    _save(person, ["status", "died_on"])
    VitalEvent.objects.create(person=person, kind="death", occurred_on=died_on, commune_code=person.commune_code)
    _write_history(actor=actor, person=person, command="record_death", reason=reason, legal_ref=legal_ref,
                   before=before, after=snapshot(person))
    for relation in FamilyRelation.objects.filter(person=person, kind=RelationKind.SPOUSE, ended_on__isnull=True,
                                                  relative__isnull=False):
        assert relation.relative_id is not None  # filtered on relative__isnull=False
        spouse = Person.objects.select_for_update().get(pk=relation.relative_id)
        if spouse.marital_status == MaritalStatus.MARRIED:
            spouse_before = snapshot(spouse)
            spouse.marital_status = MaritalStatus.WIDOWED
            _save(spouse, ["marital_status"])
            _write_history(actor=actor, person=spouse, command="record_death", legal_ref=legal_ref,
                           reason=_("Vợ/chồng %(id)s đã chết") % {"id": person.id_number},
                           before=spouse_before, after={"marital_status": spouse.marital_status})
    _emit("person.died", person.id_number, died_on=died_on, commune_code=person.commune_code)
    return person


def _require_alive(person: Person) -> None:
    if person.status != PersonStatus.ALIVE:
        raise InvalidState(_("Công dân không còn sống"), field="id_number")


@transaction.atomic
def register_permanent_residence(
    *, actor: Actor, id_number: str, commune_code: str, address: str, valid_from: date, reason: str,
    legal_ref: str = "Luật Cư trú 2020, Điều 20-22", household_code: str | None = None,
    relationship: str = HouseholdRelationship.OTHER, expected_version: int | None = None,
) -> Residence:
    """Đăng ký thường trú at a commune (Law on Residence Art. 22), joining a household or
    founding a new one with the person as head. Processed by the police of the new commune."""
    _require_reason(reason, legal_ref)
    unit = v.require_commune(commune_code)
    _require_covers(actor, unit.code)
    person = _lock_person(actor=actor, id_number=id_number, expected_version=expected_version,
                          moving_in=True)
    _require_alive(person)
    v.require_not_future(valid_from, field="valid_from")
    if relationship not in HouseholdRelationship.values or relationship == HouseholdRelationship.HEAD:
        raise ValidationFailed([{"field": "relationship", "reason": "invalid",
                                 "message": _("Quan hệ với chủ hộ không hợp lệ")}])
    if household_code:
        household = _household_for_update(household_code, actor=actor)
        if household.commune_code != unit.code:
            raise ValidationFailed([{"field": "household_code", "reason": "other_commune",
                                     "message": _("Hộ không thuộc đơn vị đăng ký")}])
        address = household.address
    else:
        if not (address or "").strip():
            raise ValidationFailed([{"field": "address", "reason": "required", "message": _("Cần ghi địa chỉ")}])
        household = Household.objects.create(code=_new_household_code(unit.code), head=person, address=address.strip(),
                                             commune_code=unit.code, province_code=unit.province_code or "",
                                             created_on=valid_from)
        relationship = HouseholdRelationship.HEAD
    before = snapshot(person)
    previous = _end_residence(person, ResidenceKind.PERMANENT, valid_from)
    _leave_household(person, valid_from)
    HouseholdMember.objects.create(household=household, person=person, relationship=relationship, joined_on=valid_from)
    residence = Residence.objects.create(person=person, kind=ResidenceKind.PERMANENT, address=address.strip(),
                                         commune_code=unit.code, province_code=unit.province_code or "",
                                         household=household, valid_from=valid_from)
    _save(person, _set_home(person))
    _write_history(actor=actor, person=person, command="register_permanent_residence", reason=reason,
                   legal_ref=legal_ref, before={**_diff(before, snapshot(person))[0], "permanent_residence":
                                                previous.address if previous else None},
                   after={**_diff(before, snapshot(person))[1], "permanent_residence": residence.address,
                          "household": household.code})
    _emit("residence.changed", person.id_number, kind="permanent", commune_code=unit.code,
          previous_commune_code=previous.commune_code if previous else None, household=household.code)
    return residence


@transaction.atomic
def register_temporary_residence(
    *, actor: Actor, id_number: str, commune_code: str, address: str, valid_from: date, valid_until: date,
    reason: str, legal_ref: str = "Luật Cư trú 2020, Điều 27-28", expected_version: int | None = None,
) -> Residence:
    """Đăng ký tạm trú (Law on Residence Arts. 27-28): valid up to two years, renewable."""
    _require_reason(reason, legal_ref)
    unit = v.require_commune(commune_code)
    _require_covers(actor, unit.code)
    person = _lock_person(actor=actor, id_number=id_number, expected_version=expected_version,
                          moving_in=True)
    _require_alive(person)
    if valid_until <= valid_from or valid_until - valid_from > MAX_TEMPORARY_RESIDENCE:
        raise ImpossibleDate(_("Thời hạn tạm trú tối đa 2 năm và phải sau ngày bắt đầu"), field="valid_until")
    if not (address or "").strip():
        raise ValidationFailed([{"field": "address", "reason": "required", "message": _("Cần ghi địa chỉ")}])
    before = snapshot(person)
    previous = _end_residence(person, ResidenceKind.TEMPORARY, valid_from)
    residence = Residence.objects.create(person=person, kind=ResidenceKind.TEMPORARY, address=address.strip(),
                                         commune_code=unit.code, province_code=unit.province_code or "",
                                         valid_from=valid_from, valid_until=valid_until)
    _save(person, _set_home(person))
    _write_history(actor=actor, person=person, command="register_temporary_residence", reason=reason,
                   legal_ref=legal_ref, before={**_diff(before, snapshot(person))[0],
                                                "temporary_residence": previous.address if previous else None},
                   after={**_diff(before, snapshot(person))[1], "temporary_residence": residence.address,
                          "valid_until": valid_until.isoformat()})
    _emit("residence.changed", person.id_number, kind="temporary", commune_code=unit.code, valid_until=valid_until)
    return residence


@transaction.atomic
def change_current_residence(
    *, actor: Actor, id_number: str, commune_code: str, address: str, valid_from: date, reason: str,
    legal_ref: str = "Luật Cư trú 2020, Điều 19", expected_version: int | None = None,
) -> Residence:
    """Record where the person actually lives now (nơi ở hiện tại)."""
    _require_reason(reason, legal_ref)
    unit = v.require_commune(commune_code)
    person = _lock_person(actor=actor, id_number=id_number, expected_version=expected_version)
    _require_alive(person)
    v.require_not_future(valid_from, field="valid_from")
    if not (address or "").strip():
        raise ValidationFailed([{"field": "address", "reason": "required", "message": _("Cần ghi địa chỉ")}])
    before = snapshot(person)
    previous = _end_residence(person, ResidenceKind.CURRENT, valid_from)
    residence = Residence.objects.create(person=person, kind=ResidenceKind.CURRENT, address=address.strip(),
                                         commune_code=unit.code, province_code=unit.province_code or "",
                                         valid_from=valid_from)
    _save(person, _set_home(person))
    _write_history(actor=actor, person=person, command="change_current_residence", reason=reason,
                   legal_ref=legal_ref, before={"current_residence": previous.address if previous else None},
                   after={**_diff(before, snapshot(person))[1], "current_residence": residence.address})
    _emit("residence.changed", person.id_number, kind="current", commune_code=unit.code)
    return residence


@transaction.atomic
def split_household(
    *, actor: Actor, household_code: str, member_id_numbers: list[str], new_head_id_number: str,
    reason: str, legal_ref: str = "Luật Cư trú 2020, Điều 25", on: date | None = None,
) -> Household:
    """Tách hộ: some members leave to form a new household at the same legal residence."""
    _require_reason(reason, legal_ref)
    actor.require(Permission.REGISTRY_WRITE)
    on = on or v.today()
    household = _household_for_update(household_code, actor=actor)
    members = {m.person.id_number: m for m in household.members.filter(left_on__isnull=True).select_related("person")}
    leaving = list(dict.fromkeys(member_id_numbers))
    if new_head_id_number not in leaving:
        leaving.append(new_head_id_number)
    unknown = [i for i in leaving if i not in members]
    if unknown:
        raise ValidationFailed([{"field": "member_id_numbers", "reason": "not_member",
                                 "message": _("Không phải thành viên của hộ: %(ids)s") % {"ids": ", ".join(unknown)}}])
    if household.head is not None and household.head.id_number in leaving:
        raise ValidationFailed([{"field": "member_id_numbers", "reason": "head_cannot_leave",
                                 "message": _("Chủ hộ hiện tại không tách khỏi hộ của mình")}])
    if len(leaving) >= len(members):
        raise ValidationFailed([{"field": "member_id_numbers", "reason": "nobody_left",
                                 "message": _("Hộ cũ phải còn ít nhất một thành viên")}])
    new_head = members[new_head_id_number].person
    if new_head.birth_date and (on - new_head.birth_date).days < 18 * 365:
        raise ValidationFailed([{"field": "new_head_id_number", "reason": "minor",
                                 "message": _("Chủ hộ mới phải đủ 18 tuổi")}])
    new_household = Household.objects.create(
        code=_new_household_code(household.commune_code), head=new_head, address=household.address,
        commune_code=household.commune_code, province_code=household.province_code, created_on=on)
    for id_number in leaving:
        member = members[id_number]
        person = Person.objects.select_for_update().get(pk=member.person_id)
        member.left_on = on
        member.save(update_fields=["left_on"])
        relationship = (HouseholdRelationship.HEAD if person.pk == new_head.pk
                        else _relationship_to_head(person, new_household))
        HouseholdMember.objects.create(household=new_household, person=person, relationship=relationship,
                                       joined_on=on)
        Residence.objects.filter(person=person, kind=ResidenceKind.PERMANENT, ended_on__isnull=True).update(
            household=new_household)
        _save(person, [])
        _write_history(actor=actor, person=person, command="split_household", reason=reason, legal_ref=legal_ref,
                       before={"household": household.code, "relationship": member.relationship},
                       after={"household": new_household.code, "relationship": relationship})
    household.version += 1
    household.save(update_fields=["version"])
    _emit("household.split", household.code, new_household=new_household.code, members=leaving)
    return new_household


@transaction.atomic
def record_marriage(
    *, actor: Actor, id_number: str, spouse_id_number: str, married_on: date, reason: str = "Đăng ký kết hôn",
    legal_ref: str = "Luật Hôn nhân và gia đình 2014",
) -> tuple[Person, Person]:
    """Đăng ký kết hôn between two living, unmarried persons of marriageable age."""
    _require_reason(reason, legal_ref)
    if id_number == spouse_id_number:
        raise ValidationFailed([{"field": "spouse_id_number", "reason": "same_person",
                                 "message": _("Hai số định danh phải khác nhau")}])
    first = _lock_person(actor=actor, id_number=id_number)
    second = Person.objects.select_for_update().filter(id_number=spouse_id_number).first()
    if second is None:
        raise PersonNotFound(field="spouse_id_number")
    v.require_not_future(married_on, field="married_on")
    for person, field in ((first, "id_number"), (second, "spouse_id_number")):
        _require_alive(person)
        if person.marital_status == MaritalStatus.MARRIED:
            raise InvalidState(_("%(name)s đang có vợ/chồng") % {"name": person.full_name}, field=field)
        born = person.birth_date or date(person.birth_year, 12, 31)
        age = married_on.year - born.year - ((married_on.month, married_on.day) < (born.month, born.day))
        if age < MARRIAGE_AGE[Sex(person.sex)]:
            raise InvalidState(_("%(name)s chưa đủ tuổi kết hôn") % {"name": person.full_name}, field=field)
    for person, other in ((first, second), (second, first)):
        before = snapshot(person)
        person.marital_status = MaritalStatus.MARRIED
        _save(person, ["marital_status"])
        _relate(person, RelationKind.SPOUSE, other, married_on)
        VitalEvent.objects.create(person=person, kind="marriage", occurred_on=married_on,
                                  details={"spouse_id_number": other.id_number})
        _write_history(actor=actor, person=person, command="record_marriage", reason=reason, legal_ref=legal_ref,
                       before={"marital_status": before["marital_status"]},
                       after={"marital_status": person.marital_status, "spouse": other.id_number})
    _emit("person.married", first.id_number, spouse_id_number=second.id_number, married_on=married_on)
    return first, second


MAX_ABSENCE_DECLARATION = timedelta(days=10 * 366)


@transaction.atomic
def declare_absence(
    *, actor: Actor, id_number: str, absent_from: date, absent_until: date, destination: str, reason: str,
    legal_ref: str = "Luật Cư trú 2020, Điều 31", expected_version: int | None = None,
) -> Person:
    """Khai báo tạm vắng (Law on Residence Art. 31), recorded by the police of the commune where
    the person resides: sets the absence status (field 19) and its end date."""
    _require_reason(reason, legal_ref)
    person = _lock_person(actor=actor, id_number=id_number, expected_version=expected_version)
    _require_alive(person)
    if not (destination or "").strip():
        raise ValidationFailed([{"field": "destination", "reason": "required", "message": _("Cần ghi nơi đến")}])
    if absent_until <= absent_from or absent_until - absent_from > MAX_ABSENCE_DECLARATION:
        raise ImpossibleDate(_("Ngày kết thúc tạm vắng phải sau ngày bắt đầu (tối đa 10 năm)"),
                             field="absent_until")
    if absent_until < v.today():
        raise ImpossibleDate(_("Thời gian tạm vắng đã kết thúc"), field="absent_until")
    before = snapshot(person)
    person.absence_status = f"Tạm vắng: {destination.strip()}"[:100]  # registry data: always Vietnamese
    person.absence_until = absent_until
    _save(person, ["absence_status", "absence_until"])
    old, new = _diff(before, snapshot(person))
    _write_history(actor=actor, person=person, command="declare_absence", reason=reason, legal_ref=legal_ref,
                   before=old, after={**new, "absent_from": absent_from.isoformat(),
                                      "destination": destination.strip()})
    _emit("absence.declared", person.id_number, commune_code=person.commune_code, absent_from=absent_from,
          absent_until=absent_until)
    return person


@transaction.atomic
def correct_person(
    *, actor: Actor, id_number: str, changes: dict[str, Any], reason: str, legal_ref: str,
    expected_version: int,
) -> Person:
    """Correct registry fields (điều chỉnh thông tin) with a reason and legal reference.

    Sex, birth year and place of birth registration are part of the ID number: changing them
    cancels the number and issues a new one, so they go through ``reissue_id_number``.
    """
    _require_reason(reason, legal_ref, need_legal_ref=True)
    unknown = sorted(set(changes) - CORRECTABLE_FIELDS)
    if unknown:
        raise ValidationFailed([{"field": f, "reason": "not_correctable",
                                 "message": _("Trường này không sửa được bằng lệnh điều chỉnh")} for f in unknown])
    if not changes:
        raise ValidationFailed([{"field": "changes", "reason": "empty", "message": _("Không có thay đổi")}])
    person = _lock_person(actor=actor, id_number=id_number, expected_version=expected_version)
    cleaned = _clean_changes(person, changes)
    before = snapshot(person)
    for name, value in cleaned.items():
        setattr(person, name, value)
    fields = list(cleaned)
    if "full_name" in cleaned:
        person.name_norm = normalize_text(person.full_name)
        fields.append("name_norm")
    if "birth_date" in cleaned:
        person.birth_date_precision = DatePrecision.DAY
        fields.append("birth_date_precision")
    old, new = _diff(before, snapshot(person))
    if not new:
        raise ValidationFailed([{"field": "changes", "reason": "unchanged",
                                 "message": _("Giá trị mới trùng giá trị hiện tại")}])
    _save(person, fields)
    if "full_name" in cleaned:
        FamilyRelation.objects.filter(relative=person).update(relative_name=person.full_name)
    _write_history(actor=actor, person=person, command="correct_person", reason=reason, legal_ref=legal_ref,
                   before=old, after=new)
    _emit("person.corrected", person.id_number, fields=sorted(new))
    return person


def _clean_changes(person: Person, changes: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name, value in changes.items():
        try:
            if name == "full_name":
                cleaned[name] = v.require_name(str(value))
            elif name == "birth_date":
                value = value if isinstance(value, date) else date.fromisoformat(str(value))
                v.require_not_future(value, field=name)
                if value.year != person.birth_year:
                    raise ImpossibleDate(_("Đổi năm sinh phải cấp lại số định danh (reissue_id_number)"), field=name)
                if person.died_on and person.died_on < value:
                    raise DeathBeforeBirth(field=name)
                cleaned[name] = value
            elif name == "ethnicity_code":
                cleaned[name] = v.require_ethnicity(str(value))
            elif name == "religion_code":
                cleaned[name] = v.require_religion(str(value))
            elif name == "nationality":
                cleaned[name] = v.require_nationality(str(value))
            elif name == "blood_type":
                cleaned[name] = v.require_blood_type(str(value))
            elif name == "marital_status":
                if value not in MaritalStatus.values:
                    raise ValidationFailed([{"field": name, "reason": "invalid", "message": _("Không hợp lệ")}])
                cleaned[name] = value
            elif name == "old_id_number":
                if value and not (isinstance(value, str) and len(value) == 9 and value.isdigit()):
                    raise ValidationFailed([{"field": name, "reason": "format",
                                             "message": _("Số CMND gồm đúng 9 chữ số")}])
                cleaned[name] = value or ""
            elif name == "phone":
                digits = str(value or "").replace(" ", "")
                if digits and not (digits.lstrip("+").isdigit() and 9 <= len(digits) <= 15):
                    raise ValidationFailed([{"field": name, "reason": "format",
                                             "message": _("Số điện thoại không hợp lệ")}])
                cleaned[name] = digits
            elif name == "email":
                from django.core.validators import validate_email

                if value:
                    validate_email(value)
                cleaned[name] = value or ""
            else:
                text = str(value or "").strip()
                if len(text) > 300:
                    raise ValidationFailed([{"field": name, "reason": "too_long", "message": _("Quá dài")}])
                cleaned[name] = text
        except ValidationFailed as exc:
            errors.extend(exc.errors())
        except (ImpossibleDate, InvalidCode) as exc:
            errors.extend(exc.errors() or [{"field": name, "reason": exc.code, "message": str(exc.detail)}])
        except (ValueError, TypeError):
            errors.append({"field": name, "reason": "invalid", "message": _("Giá trị không hợp lệ")})
        except Exception as exc:  # django ValidationError from validate_email
            if exc.__class__.__name__ != "ValidationError":
                raise
            errors.append({"field": name, "reason": "invalid", "message": _("Địa chỉ thư điện tử không hợp lệ")})
    if errors:
        raise ValidationFailed(errors)
    return cleaned


@transaction.atomic
def reissue_id_number(
    *, actor: Actor, id_number: str, reason: str, legal_ref: str, expected_version: int,
    sex: str | None = None, birth_date: date | None = None, birth_registration_commune_code: str | None = None,
) -> Person:
    """Cancel a number and issue a new one (Circular 59/2021 Art. 6): a corrected sex, birth
    year or place of birth registration. The old number stays in ``CancelledIdNumber``."""
    _require_reason(reason, legal_ref, need_legal_ref=True)
    person = _lock_person(actor=actor, id_number=id_number, expected_version=expected_version)
    before = snapshot(person)
    if sex is not None:
        if sex not in Sex.values:
            raise ValidationFailed([{"field": "sex", "reason": "invalid", "message": _("Giới tính là M hoặc F")}])
        person.sex = sex
    if birth_date is not None:
        v.require_not_future(birth_date, field="birth_date")
        if person.died_on and person.died_on < birth_date:
            raise DeathBeforeBirth(field="birth_date")
        person.birth_date, person.birth_year = birth_date, birth_date.year
        person.birth_date_precision = DatePrecision.DAY
    if birth_registration_commune_code is not None:
        unit = v.require_commune(birth_registration_commune_code, field="birth_registration_commune_code")
        person.birth_registration_commune_code = unit.code
        person.birth_registration_province_code = unit.province_code or ""
    province = person.birth_registration_province_code or admin_units.current_province_for_legacy(id_number[:3])
    try:
        parsed = parse_id_number(id_number)
        if province is None:
            raise InvalidIdNumber("unknown_place_code", "")
    except InvalidIdNumber as exc:
        raise InvalidState(_("Không xác định được tỉnh đăng ký khai sinh")) from exc
    if (sex is None and birth_date is None and birth_registration_commune_code is None
            and parsed.sex == person.sex and parsed.birth_year == person.birth_year):
        raise ValidationFailed([{"field": "reason", "reason": "nothing_to_fix",
                                 "message": _("Số định danh đã khớp giới tính và năm sinh")}])
    new_number = _new_id_number(province_code=province, sex=person.sex, birth_year=person.birth_year)
    try:
        CancelledIdNumber.objects.create(id_number=id_number, person=person, replaced_by=new_number,
                                         reason=reason, legal_ref=legal_ref)
    except IntegrityError as exc:  # pragma: no cover - guarded by the lock above
        raise InvalidState(_("Số này đã bị hủy")) from exc
    person.id_number = new_number
    _save(person, ["id_number", "sex", "birth_date", "birth_year", "birth_date_precision",
                   "birth_registration_commune_code", "birth_registration_province_code"])
    FamilyRelation.objects.filter(relative=person).update(relative_id_number=new_number)
    old, new = _diff(before, snapshot(person))
    _write_history(actor=actor, person=person, command="reissue_id_number", reason=reason, legal_ref=legal_ref,
                   before=old, after=new)
    _emit("person.id_number_reissued", new_number, previous_id_number=id_number)
    return person


# --- merging two records of one person (issue #13) --------------------------------------------
MERGE_UNDO_WINDOW = timedelta(days=30)
# history stays where it was written; review pairs are about the two records themselves
_NOT_MOVED = {"registry.HistoryEntry", "registry.PersonMerge", "matching.CandidatePair"}
_ACTIVE_UNIQUE = {  # one active row per person (per kind): a second one is ended, not moved
    "registry.HouseholdMember": ("left_on", ()),
    "registry.Residence": ("ended_on", ("kind",)),
}


def _person_references() -> list[tuple[Any, str]]:
    """Every (model, field) pointing at a person, from every app, found by introspection so a
    new app's references move too."""
    refs = []
    for rel in Person._meta.get_fields(include_hidden=True):
        if isinstance(rel, ForeignObjectRel) and (rel.one_to_many or rel.one_to_one):
            model = rel.related_model
            if model is not None and model._meta.label not in _NOT_MOVED:
                refs.append((model, rel.field.name))
    return refs


def _lock_pair(*, actor: Actor, first: str, second: str) -> tuple[Person, Person]:
    """Lock both persons in ID-number order (no deadlock between two merges of the same pair)."""
    locked = {n: _lock_person(actor=actor, id_number=n) for n in sorted((first, second))}
    return locked[first], locked[second]


@transaction.atomic
def merge_persons(
    *, actor: Actor, survivor_id_number: str, duplicate_id_number: str, survivor_version: int,
    duplicate_version: int, reason: str, legal_ref: str = "",
) -> PersonMerge:
    """Merge the record ``duplicate`` into ``survivor``: the survivor keeps its ID number, the
    duplicate's number is cancelled (``CancelledIdNumber`` → survivor, so lookups by it still
    resolve), everything that refers to the duplicate (households, residences, relations, cards,
    documents, identity accounts, dossiers...) moves to the survivor, a ``HistoryEntry`` on both,
    and a ``person.merged`` outbox event. Undo: ``split_persons``."""
    _require_reason(reason, legal_ref)
    if survivor_id_number == duplicate_id_number:
        raise MergeRefused(_("Không thể hợp nhất một hồ sơ vào chính nó"), field="duplicate_id_number")
    survivor, duplicate = _lock_pair(actor=actor, first=survivor_id_number, second=duplicate_id_number)
    for person, version, name in ((survivor, survivor_version, "survivor_version"),
                                  (duplicate, duplicate_version, "duplicate_version")):
        if person.version != version:
            raise StaleVersion(
                _("Phiên bản %(expected)d đã cũ, phiên bản hiện tại là %(current)d")
                % {"expected": version, "current": person.version}, field=name, current_version=person.version)
        if person.status != PersonStatus.ALIVE:
            raise MergeRefused(_("Hồ sơ %(id)s không còn hiệu lực (đã chết, mất tích hoặc đã hợp nhất)")
                               % {"id": person.id_number}, field=name.replace("_version", "_id_number"))
    today = date.today()
    before_survivor, before_duplicate = snapshot(survivor), snapshot(duplicate)
    moved: list[list[Any]] = []
    for model, field in _person_references():
        label = model._meta.label
        rows = model.objects.select_for_update().filter(**{field: duplicate}).order_by("pk")
        for row in rows:
            end_field, keys = _ACTIVE_UNIQUE.get(label, (None, ()))
            if end_field and getattr(row, end_field) is None and model.objects.filter(
                    **{field: survivor, f"{end_field}__isnull": True}, **{k: getattr(row, k) for k in keys}).exists():
                model.objects.filter(pk=row.pk).update(**{end_field: today})
                moved.append([label, row.pk, end_field, "ended"])
            else:
                model.objects.filter(pk=row.pk).update(**{field: survivor})
                moved.append([label, row.pk, field, "moved"])
    CancelledIdNumber.objects.create(id_number=duplicate.id_number, person=survivor,
                                     replaced_by=survivor.id_number, reason=reason[:300], legal_ref=legal_ref)
    survivor_fields = []
    if not survivor.old_id_number and duplicate.old_id_number:
        survivor.old_id_number = duplicate.old_id_number
        survivor_fields.append("old_id_number")
    _save(survivor, survivor_fields)
    duplicate.status = PersonStatus.MERGED
    duplicate.other_info = {**duplicate.other_info, "merged_into": survivor.id_number}
    _save(duplicate, ["status", "other_info"])
    merge = PersonMerge.objects.create(
        survivor=survivor, merged=duplicate, merged_id_number=duplicate.id_number, moved=moved,
        survivor_before=before_survivor, actor=actor.label, reason=reason, legal_ref=legal_ref)
    for person, before in ((survivor, before_survivor), (duplicate, before_duplicate)):
        old, new = _diff(before, snapshot(person))
        new["merge"] = {"id": merge.pk, "survivor": survivor.id_number, "merged": duplicate.id_number,
                        "moved": len(moved)}
        _write_history(actor=actor, person=person, command="merge_persons", reason=reason, legal_ref=legal_ref,
                       before=old, after=new)
    _emit("person.merged", survivor.id_number, merged_id_number=duplicate.id_number, merge_id=merge.pk)
    return merge


@transaction.atomic
def split_persons(*, actor: Actor, merge_id: int, reason: str, legal_ref: str = "") -> PersonMerge:
    """Undo a merge within ``MERGE_UNDO_WINDOW``: a supervisor's command. Rows moved go back,
    rows ended are reopened, the cancelled number is restored, history on both."""
    from django.utils import timezone

    from popid.core.models import Role

    _require_reason(reason, legal_ref)
    if actor.role not in {Role.SUPERVISOR, Role.ADMIN}:
        raise PermissionDenied(_("Chỉ cán bộ giám sát được tách hồ sơ đã hợp nhất"))
    merge = PersonMerge.objects.select_for_update().filter(pk=merge_id).first()
    if merge is None:
        raise MergeRefused(_("Không tìm thấy lần hợp nhất %(id)s") % {"id": merge_id}, field="merge_id")
    survivor = Person.objects.select_for_update().get(pk=merge.survivor_id)
    duplicate = Person.objects.select_for_update().get(pk=merge.merged_id)
    if not (actor.covers_commune(survivor.commune_code) or actor.covers_commune(duplicate.commune_code)):
        raise MergeRefused(_("Không tìm thấy lần hợp nhất %(id)s") % {"id": merge_id}, field="merge_id")
    if merge.split_at is not None:
        raise MergeRefused(_("Lần hợp nhất này đã được tách"), field="merge_id")
    if timezone.now() - merge.merged_at > MERGE_UNDO_WINDOW:
        raise MergeRefused(_("Đã quá thời hạn %(days)d ngày để tách hồ sơ")
                           % {"days": MERGE_UNDO_WINDOW.days}, field="merge_id")
    from django.apps import apps

    before_survivor, before_duplicate = snapshot(survivor), snapshot(duplicate)
    for label, pk, field, action in reversed(merge.moved):
        model = apps.get_model(label)
        if action == "moved":
            model.objects.filter(pk=pk).update(**{field: duplicate})
        else:
            model.objects.filter(pk=pk).update(**{field: None})
    CancelledIdNumber.objects.filter(id_number=merge.merged_id_number, person=survivor).delete()
    if "old_id_number" in merge.survivor_before and survivor.old_id_number != merge.survivor_before["old_id_number"]:
        survivor.old_id_number = merge.survivor_before["old_id_number"]
        _save(survivor, ["old_id_number"])
    else:
        _save(survivor, [])
    duplicate.status = PersonStatus.ALIVE
    duplicate.other_info = {k: v for k, v in duplicate.other_info.items() if k != "merged_into"}
    _save(duplicate, ["status", "other_info"])
    merge.split_at, merge.split_by, merge.split_reason = timezone.now(), actor.label, reason
    merge.save(update_fields=["split_at", "split_by", "split_reason"])
    for person, before in ((survivor, before_survivor), (duplicate, before_duplicate)):
        old, new = _diff(before, snapshot(person))
        new["split"] = {"merge_id": merge.pk, "survivor": survivor.id_number, "restored": duplicate.id_number}
        _write_history(actor=actor, person=person, command="split_persons", reason=reason, legal_ref=legal_ref,
                       before=old, after=new)
    _emit("person.split", duplicate.id_number, survivor_id_number=survivor.id_number, merge_id=merge.pk)
    return merge
