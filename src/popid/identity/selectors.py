"""Reads for the account pages and the officer console. Registry data is read through
``registry.selectors`` with an access context (recorded in the access log): a citizen's actor
may read only their own record and their wards' (``core.access.Actor.citizen``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from popid.core.access import AccessContext, Actor
from popid.identity.actors import citizen_actor
from popid.identity.errors import AccountNotFound
from popid.identity.models import (
    AccountEvent,
    CitizenAccount,
    CitizenSession,
    Device,
    Guardianship,
    GuardianshipKind,
    LoginEvent,
)
from popid.registry import selectors as registry_selectors
from popid.registry.models import Person

PURPOSE_SELF = "Công dân xem thông tin của mình trên tài khoản định danh điện tử"
PROFILE_FIELDS = ["full_name", "birth_date", "sex", "birth_place", "hometown", "ethnicity_code", "nationality",
                  "residences", "household"]
HISTORY_LIMIT = 50


def active_guardianship(*, guardian: CitizenAccount, ward_pk: int) -> Guardianship | None:
    """The open guardianship, still valid today: a parent's ends when the child turns 14."""
    from popid.identity.services import CHILD_AGE_LIMIT, age_on

    link = (Guardianship.objects.select_related("ward", "ward__user", "ward__person")
            .filter(guardian=guardian, ward_id=ward_pk, ended_on__isnull=True).first())
    if link is None:
        return None
    if link.kind == GuardianshipKind.PARENT:
        age = age_on(link.ward.person, timezone.localdate())
        if age is None or age >= CHILD_AGE_LIMIT:
            return None
    return link


def wards_of(*, account: CitizenAccount) -> list[Guardianship]:
    links = (Guardianship.objects.select_related("ward", "ward__person", "ward__user")
             .filter(guardian=account, ended_on__isnull=True).order_by("valid_from"))
    return [link for link in links if active_guardianship(guardian=account, ward_pk=link.ward_id)]


def guardians_of(*, account: CitizenAccount) -> list[Guardianship]:
    return list(Guardianship.objects.select_related("guardian", "guardian__person", "guardian__user")
                .filter(ward=account, ended_on__isnull=True).order_by("valid_from"))


@dataclass
class Profile:
    account: CitizenAccount
    person: Person
    detail: registry_selectors.PersonDetail


def profile_for(*, viewer: CitizenAccount, account: CitizenAccount) -> Profile:
    """The registry record of ``account`` as ``viewer`` (the account holder, or their guardian)
    sees it: read with the viewer's citizen actor, so anything else is 'not found'."""
    ctx = AccessContext(actor=citizen_actor(viewer), purpose=PURPOSE_SELF, channel="identity",
                        legal_basis="Nghị định 69/2024/NĐ-CP")
    detail = registry_selectors.person_detail(ctx=ctx, id_number=account.person.id_number)
    return Profile(account=account, person=detail.person, detail=detail)


def devices_for(*, account: CitizenAccount) -> QuerySet[Device]:
    return Device.objects.filter(account=account).order_by("revoked_at", "-created_at")


def sessions_for(*, account: CitizenAccount) -> QuerySet[CitizenSession]:
    return (CitizenSession.objects.select_related("device").filter(account=account, ended_at__isnull=True)
            .order_by("-created_at"))


def login_history(*, account: CitizenAccount, limit: int = HISTORY_LIMIT) -> list[LoginEvent]:
    return list(LoginEvent.objects.filter(account=account).order_by("-at")[:limit])


def account_events(*, account: CitizenAccount, limit: int = HISTORY_LIMIT) -> list[AccountEvent]:
    return list(AccountEvent.objects.filter(account=account).order_by("-at", "-id")[:limit])


def account_for_officer(*, ctx: AccessContext, id_number: str) -> tuple[Person, CitizenAccount | None]:
    """The person (jurisdiction-checked and recorded like any console read) and their account."""
    person = registry_selectors.access_person(ctx=ctx, id_number=id_number,
                                              fields=["full_name", "identity_account"])
    account = CitizenAccount.objects.select_related("user").filter(person=person).first()
    return person, account


def account_by_pk_for_officer(*, actor: Actor, account_id: int) -> CitizenAccount:
    account = CitizenAccount.objects.select_related("person", "user").filter(pk=account_id).first()
    if account is None or not actor.covers_commune(account.person.commune_code):
        raise AccountNotFound()
    return account
