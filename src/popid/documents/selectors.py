"""Reads of the document registries: jurisdiction checked and an access record written in the
same step (same rule as ``registry.selectors``: missing and forbidden look alike)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from popid.core.access import AccessContext, record_access
from popid.documents.errors import DocumentNotFound
from popid.documents.models import DocumentEvent, DrivingLicence, HealthInsuranceCard, VehicleRegistration
from popid.registry.models import Person

LICENCE_FIELDS = ["driving_licence", "full_name", "birth_date"]
LIST_FIELDS = ["driving_licence", "full_name"]
MAX_LIST = 50


def access_licence(*, ctx: AccessContext, number: str) -> DrivingLicence:
    licence = DrivingLicence.objects.select_related("person").filter(number=(number or "").strip()).first()
    if licence is None or not ctx.actor.may_read_person(licence.person):
        raise DocumentNotFound(_("Không tìm thấy giấy phép lái xe số %(n)s") % {"n": number}, field="number")
    record_access(ctx=ctx, person_id_numbers=[licence.person.id_number], fields=LICENCE_FIELDS)
    return licence


VEHICLE_FIELDS = ["vehicle_registration", "full_name", "address"]


def access_vehicle(*, ctx: AccessContext, plate: str) -> VehicleRegistration:
    """An active registration by plate, with its owner (jurisdiction: the owner's commune)."""
    vehicle = (VehicleRegistration.objects.select_related("owner")
               .filter(plate=(plate or "").strip().upper(), is_active=True).first())
    if vehicle is None or not ctx.actor.may_read_person(vehicle.owner):
        raise DocumentNotFound(_("Không tìm thấy đăng ký xe biển số %(p)s") % {"p": plate}, field="plate")
    record_access(ctx=ctx, person_id_numbers=[vehicle.owner.id_number], fields=VEHICLE_FIELDS)
    return vehicle


def vehicle_events(*, vehicle: VehicleRegistration) -> list[DocumentEvent]:
    return list(DocumentEvent.objects.filter(document_kind="vehicle_registration",
                                             document_number=vehicle.plate)[:50])


def licence_events(*, licence: DrivingLicence) -> list[DocumentEvent]:
    return list(DocumentEvent.objects.filter(document_kind="driving_licence", document_number=licence.number)[:50])


def list_licences(*, ctx: AccessContext, query: str = "", status: str = "") -> list[DrivingLicence]:
    """Licences of persons in the actor's jurisdiction, by licence or ID number, or the latest changes."""
    qs = DrivingLicence.objects.select_related("person").filter(ctx.actor.jurisdiction_q("person__commune_code"))
    query = (query or "").strip()
    if query:
        qs = qs.filter(number=query) | qs.filter(person__id_number=query)
    if status:
        qs = qs.filter(status=status)
    page = list(qs.order_by("-status_changed_at", "number")[:MAX_LIST])
    record_access(ctx=ctx, person_id_numbers=[lic.person.id_number for lic in page], fields=LIST_FIELDS)
    return page


@dataclass
class PersonDocuments:
    licences: list[DrivingLicence]
    vehicles: list[VehicleRegistration]
    health_cards: list[HealthInsuranceCard]


def documents_of_person(*, ctx: AccessContext, person: Person) -> PersonDocuments:
    """Every document of one person (the wallet's list of what can be added)."""
    if not ctx.actor.may_read_person(person):
        raise DocumentNotFound(_("Không tìm thấy giấy tờ"))
    docs = PersonDocuments(
        licences=list(DrivingLicence.objects.filter(person=person).order_by("number")),
        vehicles=list(VehicleRegistration.objects.filter(owner=person, is_active=True).order_by("plate")),
        health_cards=list(HealthInsuranceCard.objects.filter(person=person, is_active=True).order_by("number")),
    )
    record_access(ctx=ctx, person_id_numbers=[person.id_number], fields=["documents"])
    return docs
