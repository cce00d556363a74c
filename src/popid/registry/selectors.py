"""Reads of registry data. Every selector that returns personal data takes an AccessContext,
checks jurisdiction and records an access entry in the same step (Zulip's access_* pattern):
a person outside the actor's jurisdiction is reported exactly like a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from popid.core import admin_units
from popid.core.access import AccessContext, Actor, record_access
from popid.core.db_router import replica_reads
from popid.core.errors import ValidationFailed
from popid.core.id_numbers import ID_NUMBER_RE
from popid.core.rawrows import Columns, fetch, read_connection
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
    person = _person_by_number(id_number)
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
    """Everything the registry holds on one person, for the officer's person page and the lookup
    API: the hottest officer read, so its four reads are SQL written once per process
    (``core.rawrows``) rather than compiled by the ORM on every request."""
    person = access_person(ctx=ctx, id_number=id_number, fields=ALL_FIELDS)
    connection = read_connection(Person)
    sql = _detail_sql(connection)
    members = _household_members(connection, sql["members"], person.pk)
    return PersonDetail(
        person=person,
        residences=_residences(connection, sql["residences"], person.pk),
        relations=_rows(_RELATION, connection, sql["relations"], person.pk),
        household=members[0].household if members else None,
        household_members=members,
        cancelled_numbers=_rows(_CANCELLED, connection, sql["cancelled"], person.pk),
    )


# The person page's reads, in the ORM's terms: Person.objects.filter(id_number=...).first();
# current members of the person's current household with select_related("household",
# "household__head", "person") ordered by joined_on, pk; residences with their household ordered
# by ended_on, -valid_from; relations by kind, valid_from; cancelled numbers by -cancelled_at.
_PERSON = Columns(Person, "p")
_MEMBER, _CURRENT = Columns(HouseholdMember, "m"), Columns(HouseholdMember, "cm")
_HOUSEHOLD, _HEAD, _MEMBER_PERSON = Columns(Household, "h"), Columns(Person, "hd"), Columns(Person, "mp")
_RESIDENCE, _RESIDENCE_HOUSEHOLD = Columns(Residence, "r"), Columns(Household, "rh")
_RELATION = Columns(FamilyRelation, "f")
_CANCELLED = Columns(CancelledIdNumber, "c")
_SQL: dict[str, dict[str, str]] = {}


def _detail_sql(connection: Any) -> dict[str, str]:
    found = _SQL.get(connection.vendor)
    if found is None:
        c = connection
        found = {
            "person": f"SELECT {_PERSON.select(c)} FROM {_PERSON.table(c)} WHERE {_PERSON.column('id_number', c)} = %s "  # noqa: S608 - model metadata only
                      f"ORDER BY {_PERSON.column('id', c)} LIMIT 1",
            "members": (
                f"SELECT {_MEMBER.select(c)}, {_HOUSEHOLD.select(c)}, {_HEAD.select(c)}, {_MEMBER_PERSON.select(c)} "  # noqa: S608 - model metadata only
                f"FROM {_MEMBER.table(c)} "
                f"JOIN {_HOUSEHOLD.table(c)} ON {_HOUSEHOLD.column('id', c)} = {_MEMBER.column('household', c)} "
                f"LEFT JOIN {_HEAD.table(c)} ON {_HEAD.column('id', c)} = {_HOUSEHOLD.column('head', c)} "
                f"JOIN {_MEMBER_PERSON.table(c)} ON {_MEMBER_PERSON.column('id', c)} = {_MEMBER.column('person', c)} "
                f"WHERE {_MEMBER.column('left_on', c)} IS NULL AND {_MEMBER.column('household', c)} IN ("
                f"SELECT {_CURRENT.column('household', c)} FROM {_CURRENT.table(c)} "
                f"WHERE {_CURRENT.column('person', c)} = %s AND {_CURRENT.column('left_on', c)} IS NULL) "
                f"ORDER BY {_MEMBER.column('joined_on', c)} ASC, {_MEMBER.column('id', c)} ASC"),
            "residences": (
                f"SELECT {_RESIDENCE.select(c)}, {_RESIDENCE_HOUSEHOLD.select(c)} FROM {_RESIDENCE.table(c)} "  # noqa: S608 - model metadata only
                f"LEFT JOIN {_RESIDENCE_HOUSEHOLD.table(c)} "
                f"ON {_RESIDENCE_HOUSEHOLD.column('id', c)} = {_RESIDENCE.column('household', c)} "
                f"WHERE {_RESIDENCE.column('person', c)} = %s "
                f"ORDER BY {_RESIDENCE.column('ended_on', c)} ASC, {_RESIDENCE.column('valid_from', c)} DESC"),
            "relations": (
                f"SELECT {_RELATION.select(c)} FROM {_RELATION.table(c)} WHERE {_RELATION.column('person', c)} = %s "  # noqa: S608 - model metadata only
                f"ORDER BY {_RELATION.column('kind', c)} ASC, {_RELATION.column('valid_from', c)} ASC"),
            "cancelled": (
                f"SELECT {_CANCELLED.select(c)} FROM {_CANCELLED.table(c)} WHERE {_CANCELLED.column('person', c)} = %s "  # noqa: S608 - model metadata only
                f"ORDER BY {_CANCELLED.column('cancelled_at', c)} DESC"),
        }
        _SQL[connection.vendor] = found
    return found


def _person_by_number(id_number: str) -> Person | None:
    connection = read_connection(Person)
    rows = fetch(connection, _detail_sql(connection)["person"], [id_number])
    return _PERSON.instance(rows[0], 0, connection) if rows else None


def _rows(columns: Columns[Any], connection: Any, sql: str, person_pk: int) -> list[Any]:
    return [columns.instance(row, 0, connection) for row in fetch(connection, sql, [person_pk])]


def _household_members(connection: Any, sql: str, person_pk: int) -> list[HouseholdMember]:
    members: list[HouseholdMember] = []
    households: dict[int, Household] = {}
    for row in fetch(connection, sql, [person_pk]):
        member = _MEMBER.instance(row, 0, connection)
        offset = _MEMBER.width
        household = _HOUSEHOLD.instance(row, offset, connection)
        assert member is not None and household is not None
        household = households.setdefault(household.pk, household)
        if "head" not in household._state.fields_cache:
            _set_related(household, "head", _HEAD.instance(row, offset + _HOUSEHOLD.width, connection))
        _set_related(member, "household", household)
        _set_related(member, "person", _MEMBER_PERSON.instance(
            row, offset + _HOUSEHOLD.width + _HEAD.width, connection))
        members.append(member)
    return members


def _residences(connection: Any, sql: str, person_pk: int) -> list[Residence]:
    residences: list[Residence] = []
    for row in fetch(connection, sql, [person_pk]):
        residence = _RESIDENCE.instance(row, 0, connection)
        assert residence is not None
        _set_related(residence, "household", _RESIDENCE_HOUSEHOLD.instance(row, _RESIDENCE.width, connection))
        residences.append(residence)
    return residences


def _set_related(instance: Any, name: str, related: Any) -> None:
    """What select_related leaves behind: the related object cached, its id untouched."""
    type(instance)._meta.get_field(name).set_cached_value(instance, related)


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
