"""Reads of registry data. Every selector that returns personal data takes an AccessContext,
checks jurisdiction and records an access entry in the same step (Zulip's access_* pattern):
a person outside the actor's jurisdiction is reported exactly like a missing one."""

from __future__ import annotations

from collections.abc import Callable
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
from popid.core.rawrows import Columns, FixedSql, Joined, fetch, fetch_together, read_connection
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
    ResidenceKind,
)

SEARCH_FIELDS = ["id_number", "full_name", "birth_date", "sex", "commune_code"]
ALL_FIELDS = ["*"]
MAX_SEARCH_RESULTS = 100


def _require_id_number(id_number: str) -> None:
    if not ID_NUMBER_RE.match(id_number or ""):
        raise ValidationFailed([{"field": "id_number", "reason": "format",
                                 "message": _("Số định danh cá nhân gồm đúng 12 chữ số")}])


def _check_lookup_number(id_number: str) -> None:
    """A malformed all-digit number still stored in the registry (a data-quality finding) must stay
    reachable so it can be corrected; one that is not stored is simply not found (404), like any
    well-formed number (the API publishes the pattern ^[0-9]{1,12}$ for lookups)."""
    well_formed = bool(ID_NUMBER_RE.match(id_number or ""))
    if not well_formed and not (id_number.isdigit() and len(id_number) <= 12):
        _require_id_number(id_number)


@replica_reads
def access_person(*, ctx: AccessContext, id_number: str, fields: list[str] | None = None) -> Person:
    """The person with this number (or a cancelled number of theirs), if the actor may see them."""
    _check_lookup_number(id_number)
    person = person_by_number(id_number)
    if person is None:
        cancelled = CancelledIdNumber.objects.select_related("person").filter(id_number=id_number).first()
        person = cancelled.person if cancelled else None
    if person is None:
        raise PersonNotFound(_("Không tìm thấy công dân có số định danh %(id)s") % {"id": id_number},
                             field="id_number")
    return access_loaded_person(ctx=ctx, person=person, fields=fields, asked_for=id_number)


def access_loaded_person(*, ctx: AccessContext, person: Person, fields: list[str] | None = None,
                         asked_for: str = "") -> Person:
    """``access_person`` for a record this request has already read in the same statement that
    authenticated it (userinfo's token joins its account's person): the same jurisdiction check
    and the same access record, without reading the row a second time (issue #18)."""
    if not ctx.actor.may_read_person(person):
        shown = asked_for or person.id_number
        raise PersonNotFound(_("Không tìm thấy công dân có số định danh %(id)s") % {"id": shown}, field="id_number")
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
    API: the hottest officer read, so its five reads are SQL written once per process
    (``core.rawrows``) rather than compiled by the ORM on every request, sent in one round trip
    (the four child reads find the person by the same number), then the access record. The
    children are read before the jurisdiction check and dropped with the person if it fails."""
    _check_lookup_number(id_number)
    connection = read_connection(Person)
    found, *children = fetch_together(connection, [(_PERSON_SQL(connection), [id_number])] + [
        (_DETAIL_SQL[name](connection), [id_number]) for name in _CHILDREN])
    if found:
        person = access_loaded_person(ctx=ctx, person=_PERSON.instance(found[0], connection), fields=ALL_FIELDS,
                                      asked_for=id_number)
    else:  # a cancelled number, or none: the person by their current number, and the children by pk
        person = access_person(ctx=ctx, id_number=id_number, fields=ALL_FIELDS)
        children = fetch_together(connection, [(_DETAIL_BY_PK_SQL[name](connection), [person.pk])
                                               for name in _CHILDREN])
    members, residences, relations, cancelled = children
    household_members = [_MEMBERS.instance(row, connection) for row in members]
    return PersonDetail(
        person=person,
        residences=[_RESIDENCES.instance(row, connection) for row in residences],
        relations=[_RELATIONS.instance(row, connection) for row in relations],
        household=household_members[0].household if household_members else None,
        household_members=household_members,
        cancelled_numbers=[_CANCELLED.instance(row, connection) for row in cancelled],
    )


# The person page's reads, in the ORM's terms: Person.objects.filter(id_number=...).first();
# current members of the person's current household with select_related("household",
# "household__head", "person") ordered by joined_on, pk; residences with their household ordered
# by ended_on, -valid_from; relations by kind, valid_from; cancelled numbers by -cancelled_at.
_PERSON = Joined(Person)
_MEMBERS = Joined(HouseholdMember, ["household", "household__head", "person"])
_CURRENT = Columns(HouseholdMember, "cm")
_RESIDENCES = Joined(Residence, ["household"])
_RELATIONS = Joined(FamilyRelation)
_CANCELLED = Joined(CancelledIdNumber)
_PERSON_SQL = FixedSql(lambda c: (
    f"{_PERSON.select_from(c)} WHERE {_PERSON.alias().column('id_number', c)} = %s "
    f"ORDER BY {_PERSON.alias().column('id', c)} LIMIT 1"))
_BY_NUMBER = Columns(Person, "pn")
_CHILDREN = ("members", "residences", "relations", "cancelled")


def _detail_sql(key: Callable[[Any], str]) -> dict[str, FixedSql]:
    """The four child reads of the person page, for the person given by ``key`` (an SQL
    expression with one parameter)."""
    return {
        "members": FixedSql(lambda c: (
            f"{_MEMBERS.select_from(c)} WHERE {_MEMBERS.alias().column('left_on', c)} IS NULL "  # noqa: S608 - model metadata only
            f"AND {_MEMBERS.alias().column('household', c)} IN (SELECT {_CURRENT.column('household', c)} "
            f"FROM {_CURRENT.table(c)} WHERE {_CURRENT.column('person', c)} = {key(c)} "
            f"AND {_CURRENT.column('left_on', c)} IS NULL) "
            f"ORDER BY {_MEMBERS.alias().column('joined_on', c)} ASC, {_MEMBERS.alias().column('id', c)} ASC")),
        "residences": FixedSql(lambda c: (
            f"{_RESIDENCES.select_from(c)} WHERE {_RESIDENCES.alias().column('person', c)} = {key(c)} "
            f"ORDER BY {_RESIDENCES.alias().column('ended_on', c)} ASC, "
            f"{_RESIDENCES.alias().column('valid_from', c)} DESC")),
        "relations": FixedSql(lambda c: (
            f"{_RELATIONS.select_from(c)} WHERE {_RELATIONS.alias().column('person', c)} = {key(c)} "
            f"ORDER BY {_RELATIONS.alias().column('kind', c)} ASC, "
            f"{_RELATIONS.alias().column('valid_from', c)} ASC")),
        "cancelled": FixedSql(lambda c: (
            f"{_CANCELLED.select_from(c)} WHERE {_CANCELLED.alias().column('person', c)} = {key(c)} "
            f"ORDER BY {_CANCELLED.alias().column('cancelled_at', c)} DESC")),
    }


_DETAIL_BY_PK_SQL = _detail_sql(lambda c: "%s")
# the person holding the number, exactly as _PERSON_SQL picks them
_DETAIL_SQL = _detail_sql(lambda c: (
    f"(SELECT {_BY_NUMBER.column('id', c)} FROM {_BY_NUMBER.table(c)} "  # noqa: S608 - model metadata only
    f"WHERE {_BY_NUMBER.column('id_number', c)} = %s ORDER BY {_BY_NUMBER.column('id', c)} LIMIT 1)"))


_PERMANENT = Joined(Residence)
_PERMANENT_SQL = FixedSql(lambda c: (
    f"{_PERMANENT.select_from(c)} WHERE {_PERMANENT.alias().column('person', c)} = %s "
    f"AND {_PERMANENT.alias().column('kind', c)} = %s AND {_PERMANENT.alias().column('ended_on', c)} IS NULL"))


def current_permanent_residence(person: Person) -> Residence | None:
    """The person's current permanent residence (at most one: a unique constraint), read by every
    channel that pre-fills or releases an address: a fixed query (core.rawrows). The caller has
    recorded the read of the person already."""
    connection = read_connection(Residence)
    rows = fetch(connection, _PERMANENT_SQL(connection), [person.pk, ResidenceKind.PERMANENT.value])
    return _PERMANENT.instance(rows[0], connection) if rows else None


def person_by_number(id_number: str) -> Person | None:
    """The person holding ``id_number`` now, read by a fixed query. Records nothing: callers that
    release data record it (``access_person``; eKYC records only when the number is found)."""
    connection = read_connection(Person)
    rows = fetch(connection, _PERSON_SQL(connection), [id_number])
    return _PERSON.instance(rows[0], connection) if rows else None


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
