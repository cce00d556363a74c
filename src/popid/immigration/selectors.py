"""Police reads of the immigration database. Jurisdiction by the establishment's commune; every
foreign person shown leaves an access record (``core.access.record_access``) keyed by
nationality + document number (``mrz.passport_key``, 12 characters like an ID number)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from popid.core import admin_units
from popid.core.access import AccessContext, record_access
from popid.core.errors import NotFound, PermissionDenied
from popid.immigration.errors import ForeignPersonNotFound
from popid.immigration.models import (
    AlertStatus,
    Establishment,
    ForeignPerson,
    OverstayAlert,
    Stay,
    TemporaryResidenceCard,
    TravelDocument,
    Visa,
    WatchHit,
)
from popid.immigration.mrz import passport_key

PRESENT_FIELDS = ("full_name", "nationality", "document_number", "establishment", "arrival_at")
HISTORY_FIELDS = ("full_name", "nationality", "birth_date", "sex", "documents", "visas", "residence_cards", "stays")


def _require_officer(ctx: AccessContext) -> None:
    if ctx.actor.is_citizen:
        raise PermissionDenied(_("Chỉ cán bộ công an được tra cứu người nước ngoài"))


def _record(ctx: AccessContext, stays: list[Stay], fields: tuple[str, ...]) -> None:
    record_access(ctx=ctx, person_id_numbers=[passport_key(s.document.nationality, s.document.number) for s in stays],
                  fields=fields)


def present_in_commune(ctx: AccessContext, commune_code: str, *, limit: int = 500) -> list[Stay]:
    """Foreigners present now (arrival declared, no departure) at establishments of one commune."""
    _require_officer(ctx)
    if not admin_units.is_active_commune(commune_code) or not ctx.actor.covers_commune(commune_code):
        # outside the jurisdiction looks exactly like a commune that does not exist
        raise NotFound(_("Không tìm thấy xã/phường trong phạm vi quản lý"))
    stays = list(Stay.objects.select_related("person", "document", "establishment")
                 .filter(commune_code=commune_code, departure_at__isnull=True).order_by("-arrival_at")[:limit])
    _record(ctx, stays, PRESENT_FIELDS)
    return stays


def present_counts(ctx: AccessContext) -> list[dict[str, Any]]:
    """Foreigners present per commune of the officer's jurisdiction (counts only: no personal data)."""
    _require_officer(ctx)
    rows: dict[str, int] = {}
    for code in (Stay.objects.filter(ctx.actor.jurisdiction_q(), departure_at__isnull=True)
                 .values_list("commune_code", flat=True)):
        rows[code] = rows.get(code, 0) + 1
    units = admin_units.communes()
    return [{"commune_code": code, "commune_name": units[code].name if code in units else code, "present": n}
            for code, n in sorted(rows.items())]


@dataclass(frozen=True)
class PersonHistory:
    person: ForeignPerson
    documents: list[TravelDocument]
    visas: list[Visa]
    stays: list[Stay]
    residence_cards: list[TemporaryResidenceCard]


def person_history(ctx: AccessContext, nationality: str, document_number: str) -> PersonHistory:
    """A person's documents, visas and stays across establishments. Visible to an officer whose
    jurisdiction holds at least one of the stays; others get the same 404 as a missing person."""
    _require_officer(ctx)
    document = (TravelDocument.objects.select_related("person")
                .filter(nationality=(nationality or "").upper(), number=(document_number or "").upper()).first())
    if document is None:
        raise ForeignPersonNotFound()
    person = document.person
    stays = list(person.stays.select_related("establishment", "document").order_by("-arrival_at"))
    if not ctx.actor.covers_any(s.commune_code for s in stays):
        raise ForeignPersonNotFound()
    record_access(ctx=ctx, person_id_numbers=[passport_key(document.nationality, document.number)],
                  fields=HISTORY_FIELDS)
    return PersonHistory(person=person, documents=list(person.documents.order_by("-recorded_at")),
                         visas=list(person.visas.order_by("-valid_until")), stays=stays,
                         residence_cards=list(person.residence_cards.order_by("-valid_from")))


def overstay_alerts(ctx: AccessContext, *, status: str = AlertStatus.OPEN, limit: int = 500) -> list[OverstayAlert]:
    _require_officer(ctx)
    alerts = list(OverstayAlert.objects.select_related("person", "stay__document", "stay__establishment")
                  .filter(ctx.actor.jurisdiction_q(), status=status).order_by("-days_over")[:limit])
    _record(ctx, [a.stay for a in alerts], ("full_name", "nationality", "document_number", "visa", "establishment"))
    return alerts


def watch_hits(ctx: AccessContext, *, status: str = AlertStatus.OPEN, limit: int = 200) -> list[WatchHit]:
    _require_officer(ctx)
    hits = list(WatchHit.objects.select_related("entry", "stay__person", "stay__document", "stay__establishment")
                .filter(ctx.actor.jurisdiction_q(), status=status).order_by("-created_at")[:limit])
    _record(ctx, [h.stay for h in hits], ("full_name", "nationality", "document_number", "establishment"))
    return hits


def establishments(ctx: AccessContext) -> QuerySet[Establishment]:
    _require_officer(ctx)
    return Establishment.objects.filter(ctx.actor.jurisdiction_q()).order_by("commune_code", "name")
