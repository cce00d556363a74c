"""The authorisation matrix, generated from the permission declarations: every operation of the
API (``core.permissions.operation_requires``) is called as each kind of principal — anonymous,
a citizen, an officer of another unit, an officer of the unit, an agency without any grant —
and the outcome must follow from the declared permission and the role → permission map:

- a principal whose role lacks the permission is refused (401 or 403) and nothing changed;
- a principal whose role holds it is never refused for lack of permission;
- any 401/403, for whatever reason (scope, grant), changed nothing;
- reads of a person, household or dossier of Phường Hoàn Kiếm answer the unit's officer and look
  missing (404) to the officer of another unit; the citizen reads their own dossier.

A new operation without a declaration fails ``test_every_operation_declares_a_permission``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone
from joserfc.jwk import ECKey

from popid.api import api
from popid.core.access import Actor
from popid.core.permissions import (
    AGENCY_ROLE,
    CITIZEN_ROLE,
    OPERATIONS,
    Permission,
    declared_permission,
    role_has,
)
from popid.exchange import management_services as manage
from popid.exchange.models import AgencyToken
from popid.identity.oidc.models import digest
from popid.services import dossiers
from popid.services.models import Dossier
from tests.conftest import bearer
from tests.services.test_services_workflow import citizen_login, make_account


@dataclass(frozen=True)
class Op:
    method: str
    path: str  # with {params}
    handler: object

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def api_operations() -> list[Op]:
    api.urls
    ops = []
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    ops.append(Op(method, "/api/v1" + "/" + (bound.prefix.strip("/") + "/" + path.lstrip("/"))
                                  .strip("/").replace("//", "/"), operation.view_func))
    return sorted(ops, key=lambda o: o.id)


OPS = api_operations()
PRINCIPALS = ["anonymous", "citizen", "officer_other_unit", "officer_of_unit", "agency_without_grant"]
ROLE = {"anonymous": None, "citizen": CITIZEN_ROLE, "officer_other_unit": "officer", "officer_of_unit": "officer",
        "agency_without_grant": AGENCY_ROLE}
# Reads whose object lies in Phường Hoàn Kiếm: the unit's officer sees it, another unit's gets 404.
JURISDICTION_READS = {"GET /api/v1/persons/{id_number}", "GET /api/v1/persons/{id_number}/history",
                      "GET /api/v1/households/{code}", "GET /api/v1/quality/persons/{id_number}/findings",
                      "GET /api/v1/services/officer/dossiers/{code}",
                      "GET /api/v1/immigration/communes/{commune_code}/present"}
OWN_READS = {"GET /api/v1/services/dossiers/{code}"}  # the citizen's own dossier


def fingerprint() -> tuple:
    """Row counts of every PopID table plus the version sums of versioned rows, in one query:
    any write a refused request might make shows up here."""
    parts = []
    for model in apps.get_models():
        if not model.__module__.startswith("popid."):
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(f"(SELECT COUNT(*) FROM {table})")
        if any(f.name == "version" for f in model._meta.concrete_fields):
            parts.append(f"(SELECT COALESCE(SUM(version), 0) FROM {table})")
    parts.append("(SELECT COUNT(*) FROM auth_user WHERE is_active)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone())


@pytest.fixture
def principals(db, family, officer_hoan_kiem, officer_hcm):
    clients = {"anonymous": Client()}
    citizen = Client()
    citizen_login(citizen, make_account(family["an"], level=2))
    clients["citizen"] = citizen
    clients["officer_other_unit"] = Client(headers=bearer(officer_hcm))
    clients["officer_of_unit"] = Client(headers=bearer(officer_hoan_kiem))
    admin = Actor.system("matrix-admin")
    agency = manage.create_agency(actor=admin, code="no-grant", name="Cơ quan chưa được cấp quyền", kind="bank",
                                  rate_per_minute=600, daily_quota=1000)
    key = ECKey.generate_key("P-256", parameters={"kid": "no-grant-1", "alg": "ES256"}, private=True)
    subsystem = manage.create_subsystem(actor=admin, agency=agency, code="core", name="Hệ thống lõi",
                                        jwks={"keys": [key.as_dict(private=False)]})
    raw = secrets.token_urlsafe(32)
    AgencyToken.objects.create(subsystem=subsystem, token_hash=digest(raw), scope="",
                               expires_at=timezone.now() + timedelta(hours=1))
    clients["agency_without_grant"] = Client(headers={"Authorization": f"Bearer {raw}"})
    # a dossier of the unit, An's own: the officer of the unit and An read it, others do not
    dossiers.register_counter_dossier(actor=Actor.for_user(officer_hoan_kiem), procedure_code="residence_confirmation",
                                      subject_id_number=family["an"].id_number, data={}, attachments=[])
    return clients


def _url(op: Op, family) -> str:
    an = family["an"]
    household = an.household_memberships.get(left_on__isnull=True).household
    values = {"id_number": an.id_number, "number": "000000000001", "reference": "khong-co", "subscription_id": "1",
              "size": "1", "public_id": "khong-co", "code": "khong-co", "commune_code": "00070",
              "record_id": "1", "link_id": "1", "hit_id": "1"}
    if op.path.startswith("/api/v1/households/"):
        values["code"] = household.code
    if op.method == "GET" and "/dossiers/{code}" in op.path:
        values["code"] = Dossier.objects.get(subject=an).code
    url = op.path
    for name, value in values.items():
        url = url.replace("{" + name + "}", value)
    assert "{" not in url, f"no test value for a path parameter of {op.id}"
    return url


def _call(client: Client, op: Op, url: str):
    if op.method == "GET":
        return client.get(url)
    return client.generic(op.method, url, "{}", content_type="application/json")


def _code(response) -> str:
    try:
        return response.json().get("code", "")
    except ValueError:
        return ""


def test_every_operation_declares_a_permission():
    undeclared = [op.id for op in OPS if declared_permission(op.handler) is None]
    assert undeclared == []
    assert len(OPS) >= 60 and len(OPERATIONS) >= len({id(op.handler) for op in OPS}) - 1


@pytest.mark.parametrize("op", OPS, ids=[op.id for op in OPS])
def test_authorisation_matrix(op: Op, principals, family):
    permission = declared_permission(op.handler)
    assert permission is not None
    url = _url(op, family)
    for principal in PRINCIPALS:
        role = ROLE[principal]
        allowed = permission == Permission.PUBLIC or (role is not None and role_has(role, permission))
        before = fingerprint()
        response = _call(principals[principal], op, url)
        where = f"{op.id} as {principal}: {response.status_code} {response.content[:200]!r}"
        assert response.status_code < 500, where
        if not allowed:
            assert response.status_code in {401, 403}, where
        else:
            assert response.status_code != 401 or permission == Permission.PUBLIC, where
            assert not (response.status_code == 403 and _code(response) == "permission_denied"), where
        if response.status_code in {401, 403} or not allowed:
            assert fingerprint() == before, f"refused request changed data: {where}"
        if op.id in JURISDICTION_READS and principal == "officer_of_unit":
            assert response.status_code == 200, where
        if op.id in JURISDICTION_READS and principal == "officer_other_unit":
            assert response.status_code == 404, where
        if op.id in OWN_READS and principal == "citizen":
            assert response.status_code == 200, where


def test_role_map_matches_the_roles_it_names():
    """Supervisors read but never write; citizens and agencies hold no staff permission."""
    staff_only = {Permission.REGISTRY_READ, Permission.REGISTRY_WRITE, Permission.DOSSIER_PROCESS}
    assert not any(role_has(CITIZEN_ROLE, p) or role_has(AGENCY_ROLE, p) for p in staff_only)
    assert role_has("supervisor", Permission.REGISTRY_READ) and not role_has("supervisor", Permission.REGISTRY_WRITE)
    assert role_has("officer", Permission.REGISTRY_WRITE) and not role_has("officer", Permission.EXCHANGE_ADMIN)
    assert role_has("admin", Permission.EXCHANGE_ADMIN) and not role_has("unknown", Permission.REGISTRY_READ)


# --- console and portal pages ------------------------------------------------------------------
def page_views() -> list[tuple[str, object]]:
    """(path with placeholders filled, view) of every page built on ``web.shell``'s frame."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and getattr(p.callback, "frame", None):
                path = re.sub(r"<int:\w+>", "1", re.sub(r"<(?:str|slug):\w+>", "khong-co", prefix + str(p.pattern)))
                found.append(("/" + path.lstrip("^").rstrip("$"), p.callback))

    walk(get_resolver().url_patterns, "")
    return sorted(found, key=lambda item: item[0])


PAGES = page_views()


def test_every_page_declares_a_permission():
    assert len(PAGES) > 40
    assert [path for path, view in PAGES if declared_permission(view) is None] == []
    assert {declared_permission(v) for _p, v in PAGES if v.frame == "citizen"} == {Permission.CITIZEN_SELF_SERVICE}


@pytest.mark.parametrize(("path", "view"), PAGES, ids=[p for p, _v in PAGES])
def test_page_matrix(path, view, principals, family, officer_hoan_kiem):
    permission = declared_permission(view)
    anonymous = principals["anonymous"].get(path)
    assert (anonymous.status_code == 302 and "login" in anonymous["Location"]) or "dang-nhap" in anonymous["Location"]
    officer = Client()
    officer.force_login(officer_hoan_kiem)
    citizen = principals["citizen"]
    before = fingerprint()
    if view.frame == "officer":
        assert citizen.get(path).status_code == 403  # a citizen's login is not a staff account
        response = officer.get(path)
        if not role_has("officer", permission):
            assert response.status_code == 403, (path, permission)
            assert fingerprint() == before, f"refused page changed data: {path}"
        else:
            assert response.status_code != 403, (path, permission)
    else:
        assert officer.get(path).status_code == 302  # staff have no citizen account: to the citizen login
