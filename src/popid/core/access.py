"""Who is acting, where they may act, and the context every personal-data read carries.

Jurisdiction is checked here, in one place, and used by registry selectors and services;
templates and API handlers never decide it themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from popid.core.admin_units import province_of_commune
from popid.core.errors import PermissionDenied
from popid.core.models import AccessRecord, Role, ScopeLevel, StaffRole
from popid.core.permissions import CITIZEN_ROLE, Permission, denied, role_has
from popid.core.rawrows import Insert

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


__all__ = ["CITIZEN_LEVEL", "CITIZEN_ROLE", "AccessContext", "Actor", "Permission", "context_from_request",
           "record_access"]

CITIZEN_LEVEL = "self"


@dataclass(frozen=True)
class Actor:
    """The acting staff member, a system process such as the seeder, or a citizen reading their
    own record (``Actor.citizen``). A citizen has no jurisdiction: they may read exactly the
    persons in ``person_ids`` (themselves and the wards they manage) and write nothing."""

    label: str
    role: str
    level: str
    unit_code: str = ""
    unit_name: str = ""
    user_id: int | None = None
    person_ids: frozenset[int] = frozenset()

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label=label, role=Role.ADMIN, level=ScopeLevel.NATION)

    @classmethod
    def for_user(cls, user: AbstractBaseUser | AnonymousUser) -> Actor:
        if not user.is_authenticated:
            raise PermissionDenied(_("Cần đăng nhập"))
        try:
            role: StaffRole = user.staff_role  # type: ignore[attr-defined]
        except StaffRole.DoesNotExist as exc:
            raise PermissionDenied(_("Tài khoản không phải cán bộ")) from exc
        return cls(
            label=user.get_username(), role=role.role, level=role.level,
            unit_code=role.unit_code, unit_name=role.unit_name, user_id=user.pk,
        )

    @classmethod
    def citizen(cls, *, id_number: str, person_id: int, ward_person_ids: Iterable[int] = (),
                user_id: int | None = None) -> Actor:
        """A citizen acting through their identity account: may read their own record and their
        wards' records, nothing else (``identity.auth.citizen_actor`` builds it from an account)."""
        return cls(label=id_number, role=CITIZEN_ROLE, level=CITIZEN_LEVEL, unit_name="Công dân",
                   user_id=user_id, person_ids=frozenset({person_id, *ward_person_ids}))

    @property
    def is_citizen(self) -> bool:
        return self.role == CITIZEN_ROLE

    # --- jurisdiction -------------------------------------------------------------------
    def may_read_person(self, person: Any) -> bool:
        """The one rule for reading a person's record: staff by jurisdiction over the person's
        commune, citizens only their own record and their wards'."""
        if self.is_citizen:
            return person.pk in self.person_ids
        return self.covers_commune(person.commune_code)

    def covers_commune(self, commune_code: str | None) -> bool:
        if self.is_citizen:
            return False  # citizens have no territorial jurisdiction
        if self.level == ScopeLevel.NATION:
            return True
        if not commune_code:
            return False
        if self.level == ScopeLevel.COMMUNE:
            return commune_code == self.unit_code
        return province_of_commune(commune_code) == self.unit_code

    def covers_any(self, commune_codes: Iterable[str | None]) -> bool:
        return any(self.covers_commune(code) for code in commune_codes)

    def jurisdiction_q(self, commune_field: str = "commune_code") -> Q:
        """Queryset filter restricting rows to this actor's jurisdiction (none for citizens)."""
        if self.is_citizen:
            return Q(pk__in=[])
        if self.level == ScopeLevel.NATION:
            return Q()
        if self.level == ScopeLevel.COMMUNE:
            return Q(**{commune_field: self.unit_code})
        return Q(**{f"{commune_field.removesuffix('commune_code')}province_code": self.unit_code})

    # --- permissions (core.permissions holds the role → permission map) ---------------------
    def has(self, permission: Permission) -> bool:
        return role_has(self.role, permission)

    def require(self, permission: Permission) -> None:
        if not self.has(permission):
            raise denied(permission)

    @property
    def may_write(self) -> bool:
        """Registry writes (templates ask this to show command buttons)."""
        return self.has(Permission.REGISTRY_WRITE)

    def require_write(self) -> None:
        self.require(Permission.REGISTRY_WRITE)


@dataclass(frozen=True)
class AccessContext:
    """Why personal data is being read. Every selector returning personal data takes one."""

    actor: Actor
    purpose: str
    legal_basis: str = "Luật Căn cước 2023, Điều 9"
    consent_ref: str = ""
    channel: str = "api"
    hidden_until: datetime | None = None  # lawful confidential query: revealed to the citizen later
    extra: dict[str, str] = field(default_factory=dict)


_ONE_RECORD = Insert(AccessRecord)


def record_access(*, ctx: AccessContext, person_id_numbers: Iterable[str], fields: Iterable[str]) -> None:
    """Store one access record per person read, in one INSERT."""
    field_list = sorted(set(fields))
    records = [
        AccessRecord(
            actor=ctx.actor.label, actor_unit=ctx.actor.unit_name or ctx.actor.unit_code,
            person_id_number=id_number, purpose=ctx.purpose, legal_basis=ctx.legal_basis,
            consent_ref=ctx.consent_ref, channel=ctx.channel, fields=field_list,
            hidden_until=ctx.hidden_until,
        )
        for id_number in dict.fromkeys(person_id_numbers)
    ]
    if len(records) == 1:
        _ONE_RECORD.save(records[0])  # one statement, no transaction round trips, no ORM compile
    elif records:
        AccessRecord.objects.bulk_create(records)


def context_from_request(request: HttpRequest, *, default_purpose: str = "Tra cứu nghiệp vụ") -> AccessContext:
    """API reads state their purpose and legal basis in headers (X-Purpose, X-Legal-Basis)."""
    purpose = (request.headers.get("X-Purpose") or default_purpose)[:200]
    legal_basis = (request.headers.get("X-Legal-Basis") or "Luật Căn cước 2023, Điều 9")[:200]
    return AccessContext(actor=request.actor, purpose=purpose,  # type: ignore[attr-defined]
                         legal_basis=legal_basis, channel="api")
