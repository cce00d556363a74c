"""Administration of agencies, subsystems and grants (console and ``popid agency``). Every write
is one transaction and checks the acting staff member is an administrator."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from popid.core import hotcache
from popid.core.access import Actor
from popid.core.errors import ValidationFailed
from popid.core.permissions import Permission
from popid.exchange import fields as catalogue
from popid.exchange.errors import AgencyNotFound
from popid.exchange.models import Agency, AgencyToken, EventType, Grant, Service, Subsystem
from popid.identity.oidc.models import AuthMethod, RelyingParty

HOT_CACHES = ("exchange.tokens", "exchange.grants", "exchange.clients", "oidc.clients")

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


# Grants that let a subsystem send data to traffic/immigration; they release no registry field.
WRITE_ONLY_SERVICES = frozenset({Service.TRAFFIC_DETECTIONS, Service.ACCOMMODATION, Service.BORDER_EVENTS})

def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "reason": "invalid", "message": message}])


def _require_admin(actor: Actor) -> None:
    actor.require(Permission.EXCHANGE_ADMIN)


def _code(value: str, field: str = "code") -> str:
    value = (value or "").strip().lower()
    if not CODE_RE.match(value):
        raise _invalid(field, _("Mã gồm 2–40 ký tự a-z, 0-9 hoặc dấu gạch ngang"))
    return value


def check_public_jwks(jwks: Any) -> dict[str, Any]:
    """Public signing keys only (EC, RSA or OKP): the subsystem keeps its private key."""
    if isinstance(jwks, dict) and "keys" not in jwks and "kty" in jwks:
        jwks = {"keys": [jwks]}
    try:
        key_set = KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _invalid("jwk", _("Khóa công khai (JWK) không hợp lệ: %(error)s") % {"error": exc}) from exc
    if not key_set.keys or any(k.key_type == "oct" or k.is_private for k in key_set.keys):
        raise _invalid("jwk", _("Chỉ nhận khóa công khai EC, RSA hoặc OKP, không nhận khóa bí mật"))
    return {"keys": [k.as_dict(private=False) for k in key_set.keys]}


def get_agency(code: str) -> Agency:
    agency = Agency.objects.filter(code=code).first()
    if agency is None:
        raise AgencyNotFound(_("Không có cơ quan mã %(code)s") % {"code": code}, field="agency")
    return agency


@transaction.atomic
def create_agency(*, actor: Actor, code: str, name: str, kind: str = "", rate_per_minute: int = 600,
                  daily_quota: int = 100_000) -> Agency:
    _require_admin(actor)
    code = _code(code)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise _invalid("name", _("Tên cơ quan bắt buộc, tối đa 200 ký tự"))
    if rate_per_minute < 1 or daily_quota < 1:
        raise _invalid("rate_per_minute", _("Tần suất và hạn mức phải lớn hơn 0"))
    if Agency.objects.filter(code=code).exists():
        raise _invalid("code", _("Mã cơ quan %(code)s đã tồn tại") % {"code": code})
    return Agency.objects.create(code=code, name=name, kind=(kind or "")[:40], rate_per_minute=rate_per_minute,
                                 daily_quota=daily_quota, created_by=actor.label)


def _forget_cached_credentials() -> None:
    """Tokens, subsystems and grants cached for the hot paths (core.hotcache): forgotten in this
    process now and again at commit; other processes see the change within the cache's seconds."""
    hotcache.forget(*HOT_CACHES)


@transaction.atomic
def update_limits(*, actor: Actor, agency: Agency, rate_per_minute: int, daily_quota: int) -> Agency:
    _require_admin(actor)
    if rate_per_minute < 1 or daily_quota < 1:
        raise _invalid("rate_per_minute", _("Tần suất và hạn mức phải lớn hơn 0"))
    Agency.objects.filter(pk=agency.pk).update(rate_per_minute=rate_per_minute, daily_quota=daily_quota)
    _forget_cached_credentials()
    agency.refresh_from_db()
    return agency


@transaction.atomic
def set_agency_active(*, actor: Actor, agency: Agency, active: bool) -> Agency:
    """Suspending an agency stops every token of its subsystems at the next call."""
    _require_admin(actor)
    Agency.objects.filter(pk=agency.pk).update(is_active=active)
    if not active:
        AgencyToken.objects.filter(subsystem__agency=agency, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _forget_cached_credentials()
    agency.refresh_from_db()
    return agency


@transaction.atomic
def create_subsystem(*, actor: Actor, agency: Agency, code: str, name: str, jwks: Any) -> Subsystem:
    """A subsystem is an OAuth client of the provider: client_credentials with private_key_jwt
    against the registered public key; no redirect URI, so it can never run a citizen login."""
    _require_admin(actor)
    code = _code(code)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise _invalid("name", _("Tên hệ thống bắt buộc, tối đa 200 ký tự"))
    key_set = check_public_jwks(jwks)
    if Subsystem.objects.filter(agency=agency, code=code).exists():
        raise _invalid("code", _("Mã hệ thống %(code)s đã tồn tại") % {"code": code})
    client = RelyingParty.objects.create(
        client_id=f"ag-{secrets.token_urlsafe(15)}", name=f"{agency.name} — {name}"[:200],
        token_endpoint_auth_method=AuthMethod.PRIVATE_KEY_JWT, jwks=key_set, redirect_uris=[],
        allowed_scopes="", created_by=actor.label[:150])
    return Subsystem.objects.create(agency=agency, code=code, name=name, client=client)


@transaction.atomic
def replace_subsystem_key(*, actor: Actor, subsystem: Subsystem, jwks: Any) -> Subsystem:
    _require_admin(actor)
    RelyingParty.objects.filter(pk=subsystem.client_id).update(jwks=check_public_jwks(jwks))
    _forget_cached_credentials()
    subsystem.client.refresh_from_db()
    return subsystem


@transaction.atomic
def create_grant(*, actor: Actor, subsystem: Subsystem, service: str, fields: list[str], legal_basis: str,
                 expires_at: datetime, event_types: list[str] | None = None,
                 confidential_allowed: bool = False) -> Grant:
    """Grant one service for exact fields until ``expires_at``. ``life_status`` always covers
    the life-status field; events name the event types and the payload fields."""
    _require_admin(actor)
    if service not in Service.values:
        raise _invalid("service", _("Dịch vụ không tồn tại: %(s)s") % {"s": service})
    fields = sorted(set(fields or []))
    if service == Service.LIFE_STATUS:
        fields = ["life_status"]
    if service in WRITE_ONLY_SERVICES:
        fields = []  # write-only grants: they send data to traffic/immigration and read no registry field
    if bad := catalogue.unknown(fields):
        raise _invalid("fields", _("Trường dữ liệu không có trong danh mục: %(f)s") % {"f": ", ".join(bad)})
    not_verifiable = sorted(set(fields) - catalogue.VERIFIABLE)
    if service in {Service.EKYC, Service.BATCH_VERIFY} and not_verifiable:
        raise _invalid("fields", _("Không xác thực được các trường: %(f)s") % {"f": ", ".join(not_verifiable)})
    if service != Service.LIFE_STATUS and service not in WRITE_ONLY_SERVICES and not fields:
        raise _invalid("fields", _("Cần chọn ít nhất một trường dữ liệu"))
    events = sorted(set(event_types or []))
    if service == Service.EVENTS:
        if not events or set(events) - set(EventType.values):
            raise _invalid("event_types", _("Chọn loại sự kiện trong: %(e)s") % {"e": ", ".join(EventType.values)})
    else:
        events = []
    legal_basis = (legal_basis or "").strip()
    if not legal_basis or len(legal_basis) > 200:
        raise _invalid("legal_basis", _("Căn cứ pháp lý bắt buộc, tối đa 200 ký tự"))
    if expires_at <= timezone.now():
        raise _invalid("expires_at", _("Thời hạn phải ở tương lai"))
    _forget_cached_credentials()
    return Grant.objects.create(subsystem=subsystem, service=service, fields=fields, event_types=events,
                                legal_basis=legal_basis, expires_at=expires_at,
                                confidential_allowed=confidential_allowed, created_by=actor.label[:150])


@transaction.atomic
def revoke_grant(*, actor: Actor, grant: Grant) -> Grant:
    """Takes effect on the next call: every service checks the grant, not the token's scope alone."""
    _require_admin(actor)
    Grant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _forget_cached_credentials()
    grant.refresh_from_db()
    return grant
