"""What each role may do: one ``Permission`` enum, one role → permissions map, and the
declarations that tie every API operation and console view to the permission it needs.

Roles (``core.models.Role`` for staff, plus the citizen and agency actors built by
``Actor.citizen`` and ``exchange.access``) are never compared as strings outside this module:
code asks ``actor.has(Permission.X)`` or ``actor.require(Permission.X)``. Jurisdiction (which
persons, which units) is a separate, object-level check in ``core.access.Actor``.

Declaring:

- an API operation: ``@operation_requires(Permission.X)`` directly under ``@router.get(...)``;
  it checks the permission after authentication and before the handler runs, and records the
  declaration in ``OPERATIONS`` (keyed by the handler's module and name).
- a console or portal view: ``@requires(Permission.X)`` (``web.shell.officer_view`` and
  ``citizen_view`` apply it); it records the declaration in ``VIEWS``.

``tests/core/test_authorisation_matrix.py`` walks ``OPERATIONS`` and calls every operation as each kind
of principal, so a new operation without a declaration fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

from django.utils.translation import gettext_lazy as _

from popid.core.errors import PermissionDenied
from popid.core.models import Role

F = TypeVar("F", bound=Callable[..., Any])

CITIZEN_ROLE = "citizen"
AGENCY_ROLE = "agency"


class Permission(StrEnum):
    PUBLIC = "public"  # no login: published keys, checkpoints, the procedure list, verifiers
    CITIZEN_SELF_SERVICE = "citizen.self_service"  # a logged-in citizen acting on their own data
    AGENCY_EXCHANGE = "exchange.agency"  # an agency subsystem calling the data-sharing API (grants apply)
    REGISTRY_READ = "registry.read"
    REGISTRY_WRITE = "registry.write"
    QUALITY_READ = "quality.read"
    QUALITY_RUN = "quality.run"
    DOSSIER_READ = "dossier.read"
    DOSSIER_PROCESS = "dossier.process"
    STATISTICS_READ = "statistics.read"
    DOCUMENT_READ = "documents.read"
    DOCUMENT_WRITE = "documents.write"
    ACCOUNT_VERIFY = "identity.account_verify"  # raise a citizen account to level 2 at the counter
    ACCOUNT_MANAGE = "identity.account_manage"  # lock/unlock/reset a citizen account
    EXCHANGE_ADMIN = "exchange.admin"  # agencies, grants, deliveries
    OIDC_ADMIN = "oidc.admin"  # relying-party registrations
    TRAFFIC_READ = "traffic.read"  # detections, decisions and their statistics
    TRAFFIC_DECIDE = "traffic.decide"  # confirm/reject detections, decide appeals
    IMMIGRATION_READ = "immigration.read"  # foreigners present, stays, overstays, MRZ checks
    IMMIGRATION_REVIEW = "immigration.review"  # decide watch-list hits
    IMMIGRATION_WRITE = "immigration.write"  # record residence cards of foreigners
    POLICE_READ = "police.read"  # report queue, case files of the unit
    POLICE_HANDLE = "police.handle"  # classify, assign, transfer, open and act on cases
    POLICE_AUDIT = "police.audit"  # who opened which case file
    MATCH_READ = "matching.read"  # the clerical-review queue of candidate duplicates
    MATCH_DECIDE = "matching.decide"  # same / different / unsure (a merge is a registry write)
    RECORDS_READ = "records.read"  # digitised records, their progress, the cross-record search
    RECORDS_WRITE = "records.write"  # upload scans, confirm/reject person links
    TASKS_ADMIN = "ops.tasks"  # failed background tasks and their retry
    ANALYTICS_READ = "analytics.read"  # situation pages: counts, hot spots, trends, forecasts, alerts (no persons)
    ANALYTICS_MANAGE = "analytics.manage"  # acknowledge anomaly alerts, refresh the analytics store
    PAYMENTS_RECONCILE = "payments.reconcile"  # daily reconciliation with the gateway's settlement report


_STAFF_READ = frozenset({
    Permission.REGISTRY_READ, Permission.QUALITY_READ, Permission.DOSSIER_READ, Permission.STATISTICS_READ,
    Permission.DOCUMENT_READ, Permission.TRAFFIC_READ, Permission.IMMIGRATION_READ, Permission.POLICE_READ,
    Permission.MATCH_READ, Permission.RECORDS_READ, Permission.ANALYTICS_READ,
})
_STAFF_WRITE = frozenset({
    Permission.REGISTRY_WRITE, Permission.DOSSIER_PROCESS, Permission.DOCUMENT_WRITE, Permission.ACCOUNT_MANAGE,
    Permission.TRAFFIC_DECIDE, Permission.IMMIGRATION_REVIEW, Permission.POLICE_HANDLE, Permission.MATCH_DECIDE,
    Permission.RECORDS_WRITE,
    Permission.IMMIGRATION_WRITE,
})
_OVERSIGHT = frozenset({Permission.QUALITY_RUN, Permission.POLICE_AUDIT, Permission.TASKS_ADMIN,
                        Permission.ANALYTICS_MANAGE, Permission.PAYMENTS_RECONCILE})

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.OFFICER: _STAFF_READ | _STAFF_WRITE | {Permission.ACCOUNT_VERIFY},
    Role.SUPERVISOR: _STAFF_READ | _OVERSIGHT,
    Role.ADMIN: _STAFF_READ | _STAFF_WRITE | _OVERSIGHT | {Permission.EXCHANGE_ADMIN, Permission.OIDC_ADMIN},
    CITIZEN_ROLE: frozenset({Permission.CITIZEN_SELF_SERVICE}),
    AGENCY_ROLE: frozenset({Permission.AGENCY_EXCHANGE}),
}

# Why a permission is refused, in the words the refusal page and problem JSON show.
REFUSALS: dict[Permission, Any] = {
    Permission.REGISTRY_WRITE: _("Vai trò này chỉ được xem, không được thay đổi dữ liệu"),
    Permission.DOSSIER_PROCESS: _("Vai trò này chỉ được xem, không được thay đổi dữ liệu"),
    Permission.DOCUMENT_WRITE: _("Vai trò này chỉ được xem, không được thay đổi dữ liệu"),
    Permission.QUALITY_RUN: _("Chỉ cán bộ giám sát hoặc quản trị được chạy kiểm tra chất lượng"),
    Permission.ACCOUNT_VERIFY: _("Chỉ cán bộ công an được thực hiện thao tác này"),
    Permission.ACCOUNT_MANAGE: _("Chỉ cán bộ công an được thực hiện thao tác này"),
    Permission.EXCHANGE_ADMIN: _("Chỉ quản trị hệ thống được quản lý cơ quan khai thác dữ liệu"),
    Permission.OIDC_ADMIN: _("Chỉ quản trị hệ thống được quản lý dịch vụ kết nối"),
    Permission.STATISTICS_READ: _("Chỉ cán bộ được xem thống kê"),
    Permission.TRAFFIC_DECIDE: _("Vai trò này chỉ được xem, không được thay đổi dữ liệu"),
    Permission.IMMIGRATION_REVIEW: _("Vai trò này chỉ được xem, không được thay đổi dữ liệu"),
    Permission.IMMIGRATION_WRITE: _("Vai trò này chỉ được xem, không được thay đổi dữ liệu"),
    Permission.POLICE_HANDLE: _("Vai trò này chỉ được xem, không được thay đổi dữ liệu"),
    Permission.MATCH_DECIDE: _("Vai trò này chỉ được xem, không được thay đổi dữ liệu"),
    Permission.RECORDS_WRITE: _("Vai trò này chỉ được xem, không được thay đổi dữ liệu"),
    Permission.POLICE_AUDIT: _("Chỉ cán bộ giám sát hoặc quản trị xem được trang này"),
    Permission.TASKS_ADMIN: _("Chỉ cán bộ giám sát hoặc quản trị xem được trang này"),
    Permission.ANALYTICS_MANAGE: _("Chỉ cán bộ giám sát hoặc quản trị được xác nhận cảnh báo"),
    Permission.PAYMENTS_RECONCILE: _("Chỉ cán bộ giám sát hoặc quản trị được đối soát thanh toán"),
}


def role_has(role: str, permission: Permission) -> bool:
    return permission == Permission.PUBLIC or permission in ROLE_PERMISSIONS.get(role, frozenset())


def denied(permission: Permission) -> PermissionDenied:
    return PermissionDenied(REFUSALS.get(permission, ""))


# --- declarations ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Declaration:
    permission: Permission
    module: str
    name: str


OPERATIONS: dict[str, Declaration] = {}  # "module.function" of every declared API handler
VIEWS: dict[str, Declaration] = {}  # "module.function" of every declared console/portal view


def _key(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def declared_permission(func: Callable[..., Any]) -> Permission | None:
    """The permission an API handler or a view declared, or None."""
    return getattr(func, "required_permission", None)


def mark_principal(request: Any, role: str) -> None:
    """Authentication classes that do not build an ``Actor`` (the citizen session, agency tokens)
    state which kind of principal they authenticated."""
    request.principal_role = role


def _principal_role(request: Any) -> str | None:
    """The role behind an authenticated API request: staff auth sets ``request.actor``; citizen
    and agency auth call ``mark_principal``. Anything else is no principal at all."""
    actor = getattr(request, "actor", None)
    if actor is not None:
        return str(actor.role)
    return getattr(request, "principal_role", None)


def operation_requires(permission: Permission) -> Callable[[F], F]:
    """Declare (and enforce) the permission of a django-ninja operation. Put it directly under
    ``@router.<method>(...)``: ninja builds the operation from the undecorated handler (its
    signature and annotations stay intact) and calls back here to wrap the handler, which then
    runs after authentication and input validation, before any domain code."""

    def decorate(handler: F) -> F:
        handler.required_permission = permission  # type: ignore[attr-defined]
        OPERATIONS[_key(handler)] = Declaration(permission, handler.__module__, handler.__qualname__)
        if permission == Permission.PUBLIC:
            return handler

        def contribute(operation: Any) -> None:
            inner = operation.view_func

            @wraps(inner)
            def checked(request: Any, *args: Any, **kwargs: Any) -> Any:
                role = _principal_role(request)
                if role is None or not role_has(role, permission):
                    raise denied(permission)
                return inner(request, *args, **kwargs)

            operation.view_func = checked

        callbacks = getattr(handler, "_ninja_contribute_to_operation", None)
        if callbacks is None:
            handler._ninja_contribute_to_operation = callbacks = []  # type: ignore[attr-defined]
        callbacks.append(contribute)
        return handler

    return decorate


def declare_view(view: Callable[..., Any], permission: Permission) -> None:
    """Record a view's permission when the frame itself implies it (``citizen_view``)."""
    VIEWS[_key(view)] = Declaration(permission, view.__module__, view.__qualname__)


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare the permission of a console or portal view. Put it above the view function, below
    the login decorator (``web.shell.officer_view`` / ``citizen_view``) which sets
    ``request.actor``; a missing permission raises ``PermissionDenied``, which the shell renders
    as the translated refusal page."""

    def decorate(view: F) -> F:
        VIEWS[_key(view)] = Declaration(permission, view.__module__, view.__qualname__)

        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if permission != Permission.PUBLIC:
                actor = getattr(request, "actor", None)
                if actor is None or not actor.has(permission):
                    raise denied(permission)
            return view(request, *args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
