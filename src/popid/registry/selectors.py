"""Reads of registry data. Every selector that returns personal data takes an AccessContext,
checks jurisdiction and records an access entry in the same step (Zulip's access_* pattern):
a person outside the actor's jurisdiction is reported exactly like a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from popid.core import admin_units
from popid.core.access import AccessContext, Actor, record_access
from popid.core.db_router import replica_reads
from popid.core.errors import ValidationFailed
from popid.core.id_numbers import ID_NUMBER_RE
from popid.core.text import normalize_text
from popid.registry.errors import HouseholdNotFound, PersonNotFound
from popid.registry.models import (
    CancelledIdNumber,
    FamilyRelation,
    HistoryEntry,
    Household,
    HouseholdMember,
    Person,
    PersonStatus,
    Residence,
)

SEARCH_FIELDS = ["id_number", "full_name", "birth_date", "sex", "commune_code"]
ALL_FIELDS = ["*"]
MAX_SEARCH_RESULTS = 100


def _require_id_number(id_number: str) -> None:
    if not ID_NUMBER_RE.match(id_number or ""):
        raise ValidationFailed([{"field": "id_number", "reason": "format",
                                 "message": _("Số định danh cá nhân gồm đúng 12 chữ số")}])


@replica_reads
def access_person(*, ctx: AccessContext, id_number: str, fields: list[str] | None = None) -> Person:
    """The person with this number (or a cancelled number of theirs), if the actor may see them."""
    well_formed = bool(ID_NUMBER_RE.match(id_number or ""))
    if not well_formed and not (id_number.isdigit() and len(id_number) <= 12):
        _require_id_number(id_number)
    # A malformed all-digit number still stored in the registry (a data-quality finding) must stay
    # reachable so it can be corrected; one that is not stored is simply not found (404), like any
    # well-formed number (the API publishes the pattern ^[0-9]{1,12}$ for lookups).
    person = Person.objects.filter(id_number=id_number).first()
    if person is None:
        cancelled = CancelledIdNumber.objects.select_related("person").filter(id_number=id_number).first()
        person = cancelled.person if cancelled else None
    if person is None or not ctx.actor.may_read_person(person):
        raise PersonNotFound(_("Không tìm thấy công dân có số định danh %(id)s") % {"id": id_number},
                             field="id_number")
    record_access(ctx=ctx, person_id_numbers=[person.id_number], fields=fields or ALL_FIELDS)
    return person


@dataclass
class PersonDetail:
    person: Person
    residences: list[Residence]
    relations: list[FamilyRelation]
    household: Household | None
    household_members: list[HouseholdMember]
    cancelled_numbers: list[CancelledIdNumber]


@replica_reads
def person_detail(*, ctx: AccessContext, id_number: str) -> PersonDetail:
    """Everything the registry holds on one person, for the officer's person page."""
    person = access_person(ctx=ctx, id_number=id_number, fields=ALL_FIELDS)
    # One query for the household view: the current members of the household the person
    # currently belongs to, each with the household (and its head) and the member's person row.
    current = HouseholdMember.objects.filter(person=person, left_on__isnull=True).values("household_id")
    members = list(HouseholdMember.objects.filter(household_id__in=current, left_on__isnull=True)
                   .select_related("household", "household__head", "person").order_by("joined_on", "pk"))
    household = members[0].household if members else None
    return PersonDetail(
        person=person,
        residences=list(person.residences.select_related("household").order_by("ended_on", "-valid_from")),
        relations=list(person.relations.order_by("kind", "valid_from")),
        household=household,
        household_members=members,
        cancelled_numbers=list(person.cancelled_numbers.order_by("-cancelled_at")),
    )


def person_history(*, ctx: AccessContext, id_number: str) -> QuerySet[HistoryEntry]:
    person = access_person(ctx=ctx, id_number=id_number, fields=["history"])
    return person.history.order_by("-at", "-id")


@replica_reads
def access_household(*, ctx: AccessContext, code: str) -> tuple[Household, list[HouseholdMember]]:
    household = Household.objects.select_related("head").filter(code=code).first()
    if household is None or not ctx.actor.covers_commune(household.commune_code):
        raise HouseholdNotFound(_("Không tìm thấy hộ %(code)s") % {"code": code}, field="code")
    members = list(household.members.filter(left_on__isnull=True).select_related("person").order_by("joined_on"))
    record_access(ctx=ctx, person_id_numbers=[m.person.id_number for m in members],
                  fields=["full_name", "birth_date", "sex", "household"])
    return household, members


@replica_reads
def search_persons(
    *, ctx: AccessContext, name: str, birth_year: int | None = None, birth_date: date | None = None,
    commune_code: str | None = None, limit: int = 20, offset: int = 0,
) -> tuple[list[Person], int]:
    """Accent-insensitive name search (exact normalised name, else prefix), narrowed by birth
    date/year and commune, within the actor's jurisdiction. Returns (page, total)."""
    query = normalize_text(name)
    if len(query) < 2:
        raise ValidationFailed([{"field": "name", "reason": "too_short", "message": _("Nhập ít nhất 2 ký tự")}])
    if commune_code and admin_units.commune(commune_code) is None:
        raise ValidationFailed([{"field": "commune_code", "reason": "unknown",
                                 "message": _("Mã đơn vị hành chính cấp xã không hợp lệ")}])
    limit = max(1, min(limit, MAX_SEARCH_RESULTS))
    base = Person.objects.filter(ctx.actor.jurisdiction_q())
    if birth_date:
        base = base.filter(birth_date=birth_date)
    elif birth_year:
        base = base.filter(birth_year=birth_year)
    if commune_code:
        base = base.filter(commune_code=commune_code)
    qs = base.filter(name_norm=query)
    total = qs.count()
    if total == 0:  # no exact full name: fall back to a prefix ("nguyen van" finds every Nguyễn Văn …)
        qs = base.filter(name_norm__startswith=query)
        total = qs.count()
    page = list(qs.order_by("name_norm", "birth_year", "id_number")[offset:offset + limit])
    record_access(ctx=ctx, person_id_numbers=[p.id_number for p in page], fields=SEARCH_FIELDS)
    return page, total


@replica_reads
def jurisdiction_counts(*, actor: Actor) -> dict[str, int]:
    """Aggregates for dashboards: no personal data leaves, so no access record is written."""
    counts = Person.objects.filter(actor.jurisdiction_q()).aggregate(
        total=Count("id"), alive=Count("id", filter=Q(status=PersonStatus.ALIVE)),
        deceased=Count("id", filter=Q(status=PersonStatus.DECEASED)),
        missing=Count("id", filter=Q(status=PersonStatus.MISSING)),
    )
    counts["households"] = Household.objects.filter(actor.jurisdiction_q(), dissolved_on__isnull=True).count()
    return counts
