"""Reads for clerical review. The queue lists pairs without personal data; opening a pair
shows both records and records an access for each (``core.access.record_access``)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from popid.core.access import AccessContext, Actor, record_access
from popid.core.models import ScopeLevel
from popid.matching.errors import PairNotFound
from popid.matching.models import CandidatePair, PairStatus

REVIEW_FIELDS = ["full_name", "birth_date", "sex", "id_number", "old_id_number", "birth_place", "hometown",
                 "phone", "commune_code", "residences", "relations"]


def _visible(actor: Actor) -> Q:
    return actor.jurisdiction_q("left__commune_code") | actor.jurisdiction_q("right__commune_code")


def review_queue(*, actor: Actor, limit: int = 100) -> QuerySet[CandidatePair]:
    """Open pairs in the actor's jurisdiction, most uncertain first. Communes see pending pairs;
    provinces and the nation also see the pairs communes escalated as unsure."""
    statuses = [PairStatus.PENDING] if actor.level == ScopeLevel.COMMUNE else [PairStatus.UNSURE, PairStatus.PENDING]
    return (CandidatePair.objects.filter(_visible(actor), status__in=statuses)
            .order_by("-status", "uncertainty", "pk")[:limit])


def access_pair(*, ctx: AccessContext, pair_id: int) -> CandidatePair:
    """One pair with both persons, jurisdiction-checked; both reads are recorded."""
    pair = (CandidatePair.objects.select_related("left", "right").filter(_visible(ctx.actor), pk=pair_id).first())
    if pair is None:
        raise PairNotFound(field="pair")
    record_access(ctx=ctx, person_id_numbers=[pair.left.id_number, pair.right.id_number], fields=REVIEW_FIELDS)
    return pair
