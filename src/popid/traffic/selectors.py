"""Reads of the traffic app. Officers see the detections of their jurisdiction (by the commune
where the violation happened); opening one with its vehicle owner is an access to the owner's
data and is recorded. Citizens see the decisions on vehicles they own."""

from __future__ import annotations

from django.db.models import QuerySet

from popid.core.access import AccessContext, Actor, record_access
from popid.identity.models import CitizenAccount
from popid.traffic.errors import DecisionNotFound, DetectionNotFound
from popid.traffic.models import Decision, Detection, DetectionState
from popid.traffic.services import LEGAL_BASIS, OWNER_FIELDS, OWNER_PURPOSE

MAX_LIST = 100


def review_queue(*, actor: Actor, state: str = "") -> QuerySet[Detection]:
    """Detections in the actor's jurisdiction (plates only, no personal data)."""
    qs = Detection.objects.filter(actor.jurisdiction_q("commune_code")).prefetch_related("images")
    if state in DetectionState.values:
        qs = qs.filter(state=state)
    return qs.order_by("-detected_at", "-pk")


def access_detection(*, ctx: AccessContext, pk: int) -> Detection:
    """One detection with its vehicle and owner; the owner look-up is recorded."""
    detection = (Detection.objects.select_related("vehicle__owner").prefetch_related("images")
                 .filter(pk=pk).first())
    if detection is None or not ctx.actor.covers_commune(detection.commune_code):
        raise DetectionNotFound()
    if detection.vehicle is not None:
        record_access(ctx=ctx, person_id_numbers=[detection.vehicle.owner.id_number], fields=OWNER_FIELDS)
    return detection


def officer_context(actor: Actor) -> AccessContext:
    return AccessContext(actor=actor, purpose=OWNER_PURPOSE, legal_basis=LEGAL_BASIS, channel="console")


def citizen_decisions(account: CitizenAccount) -> QuerySet[Decision]:
    return (Decision.objects.filter(owner_id=account.person_id).select_related("detection")
            .prefetch_related("detection__images").order_by("-decided_at"))


def citizen_decision(account: CitizenAccount, number: str) -> Decision:
    decision = citizen_decisions(account).filter(number=number).first()
    if decision is None:
        raise DecisionNotFound()
    return decision
