"""Reads for the console, the CLI and the API: agencies, grants, consents, deliveries. None of
these return registry personal data (consent lists show the citizen their own requests)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from popid.core.access import Actor
from popid.exchange.models import Agency, DataConsent, Delivery, DeliveryStatus, Grant, Subsystem


def agencies(code: str | None = None) -> QuerySet[Agency]:
    qs = Agency.objects.order_by("name")
    return qs.filter(code=code) if code else qs


def grant_summary(grant: Grant) -> dict[str, Any]:
    now = timezone.now()
    state = "revoked" if grant.revoked_at else ("active" if grant.is_active(now) else
                                                ("expired" if grant.expires_at <= now else "not_yet_valid"))
    return {"id": grant.pk, "service": grant.service, "fields": grant.fields, "event_types": grant.event_types,
            "legal_basis": grant.legal_basis, "confidential_allowed": grant.confidential_allowed,
            "valid_from": grant.valid_from.isoformat(), "expires_at": grant.expires_at.isoformat(), "state": state}


def subsystem_summary(subsystem: Subsystem, *, deep: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"agency": subsystem.agency.code, "code": subsystem.code, "name": subsystem.name,
                            "client_id": subsystem.client.client_id, "active": subsystem.usable}
    if deep:
        data["grants"] = [grant_summary(g) for g in subsystem.grants.order_by("service", "id")]
    return data


def agency_summary(agency: Agency, *, deep: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"code": agency.code, "name": agency.name, "kind": agency.kind,
                            "active": agency.is_active, "rate_per_minute": agency.rate_per_minute,
                            "daily_quota": agency.daily_quota}
    if deep:
        data["subsystems"] = [subsystem_summary(s, deep=True)
                              for s in agency.subsystems.select_related("client", "agency").order_by("code")]
    return data


def consents_for_citizen(actor: Actor) -> list[DataConsent]:
    """The citizen's own (and wards') consent requests, newest first."""
    if not actor.is_citizen:
        return []
    return list(DataConsent.objects.select_related("agency", "person").filter(person_id__in=actor.person_ids)
                .order_by("-requested_at", "-id"))


def dead_letters() -> QuerySet[Delivery]:
    return (Delivery.objects.select_related("subscription__subsystem__agency")
            .filter(status=DeliveryStatus.DEAD).order_by("-next_attempt_at", "-id"))


def recent_deliveries(limit: int = 50) -> list[Delivery]:
    return list(Delivery.objects.select_related("subscription__subsystem__agency").order_by("-id")[:limit])
