"""What goes into each credential, read from the registry and the document registries.

Every claim is selectively disclosable; derived claims (``age_over_NN``) let a holder prove an
age without the birth date. Ages are computed on the issue day: a credential lives at most a
year, and the web wallet re-issues on demand, so a stale ``false`` is bounded (docs/wallet.md).
Each build writes an access record: issuing a credential releases personal data to the holder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core.access import AccessContext, record_access
from popid.core.admin_units import commune, provinces
from popid.documents.models import DrivingLicence, HealthInsuranceCard, LicenceStatus, VehicleRegistration
from popid.registry.models import IdentityCard, Person, PersonStatus
from popid.registry.selectors import current_permanent_residence
from popid.wallet.errors import DocumentUnavailable

AGE_THRESHOLDS = (14, 16, 18, 21, 65)


@dataclass
class CredentialData:
    document_ref: str
    disclosable: dict[str, Any]
    valid_until: date | None


def _age(person: Person, day: date) -> int | None:
    if person.birth_date is None:
        return None
    born = person.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _ages(person: Person, day: date) -> dict[str, bool]:
    age = _age(person, day)
    if age is None:
        return {}
    return {f"age_over_{n}": age >= n for n in AGE_THRESHOLDS}


def _person_claims(person: Person) -> dict[str, Any]:
    return {"full_name": person.full_name, "birth_date": person.birth_date.isoformat() if person.birth_date else
            str(person.birth_year), "id_number": person.id_number}


def _address(person: Person) -> str:
    residence = current_permanent_residence(person)
    if residence is None:
        return ""
    unit = commune(residence.commune_code)
    province = provinces().get(unit.province_code or "") if unit else None
    parts = (residence.address, unit.name if unit else residence.commune_code, province.name if province else "")
    return ", ".join(p for p in parts if p)


def _id_card(person: Person, ref: str, today: date) -> CredentialData:
    card = IdentityCard.objects.filter(person=person, is_active=True).order_by("-issued_on").first()
    claims = {**_person_claims(person), "sex": "Nam" if person.sex == "M" else "Nữ",
              "nationality": person.nationality, "hometown": person.hometown,
              "permanent_address": _address(person), **_ages(person, today)}
    if card is not None:
        claims.update(card_number=card.card_number, card_issued_on=card.issued_on.isoformat(),
                      card_valid_until=card.valid_until.isoformat() if card.valid_until else "")
    return CredentialData(document_ref=person.id_number, disclosable=claims,
                          valid_until=card.valid_until if card else None)


def _licence(person: Person, ref: str, today: date) -> CredentialData:
    licence = DrivingLicence.objects.filter(person=person, number=ref).first()
    if licence is None:
        raise DocumentUnavailable(_("Không tìm thấy giấy phép lái xe của bạn"), field="document")
    if licence.status != LicenceStatus.ACTIVE:
        raise DocumentUnavailable(_("Giấy phép lái xe đang ở trạng thái: %(s)s") % {"s": licence.get_status_display()},
                                  field="document")
    classes = [c for c in licence.classes if not c.get("valid_until") or c["valid_until"] >= today.isoformat()]
    claims = {**_person_claims(person), "licence_number": licence.number,
              "driving_classes": [c["class"] for c in classes], "licence_issued_on": licence.issued_on.isoformat(),
              "licence_valid_until": licence.valid_until.isoformat() if licence.valid_until else "",
              "licence_points": licence.current_points, **_ages(person, today)}
    return CredentialData(document_ref=licence.number, disclosable=claims, valid_until=licence.valid_until)


def _vehicle(person: Person, ref: str, today: date) -> CredentialData:
    vehicle = VehicleRegistration.objects.filter(owner=person, plate=ref, is_active=True).first()
    if vehicle is None:
        raise DocumentUnavailable(_("Không tìm thấy đăng ký xe của bạn"), field="document")
    claims = {"plate": vehicle.plate, "vehicle_type": vehicle.vehicle_type, "brand": vehicle.brand,
              "model": vehicle.model_name, "colour": vehicle.colour, "chassis_number": vehicle.chassis_number,
              "engine_number": vehicle.engine_number, "owner_name": person.full_name,
              "owner_id_number": person.id_number, "registered_on": vehicle.registered_on.isoformat()}
    return CredentialData(document_ref=vehicle.plate, disclosable=claims, valid_until=None)


def _health(person: Person, ref: str, today: date) -> CredentialData:
    card = HealthInsuranceCard.objects.filter(person=person, number=ref, is_active=True).first()
    if card is None or card.valid_until < today:
        raise DocumentUnavailable(_("Không tìm thấy thẻ bảo hiểm y tế còn hạn của bạn"), field="document")
    claims = {**_person_claims(person), "sex": "Nam" if person.sex == "M" else "Nữ",
              "insurance_number": card.number, "benefit_level": card.benefit_level,
              "initial_clinic": card.initial_clinic, "valid_from": card.valid_from.isoformat(),
              "valid_until": card.valid_until.isoformat()}
    return CredentialData(document_ref=card.number, disclosable=claims, valid_until=card.valid_until)


def _passport(person: Person, ref: str, today: date) -> CredentialData:
    from popid.immigration.models import Passport, PassportStatus

    passport = Passport.objects.filter(person=person, number=ref).first()
    if passport is None:
        raise DocumentUnavailable(_("Không tìm thấy hộ chiếu của bạn"), field="document")
    if passport.status != PassportStatus.VALID or passport.expiry_date < today:
        raise DocumentUnavailable(_("Hộ chiếu không còn giá trị (đã báo mất hoặc hết hạn)"), field="document")
    claims = {**_person_claims(person), "sex": "Nam" if person.sex == "M" else "Nữ", "nationality": "VNM",
              "passport_number": passport.number, "passport_type": "P",
              "passport_issued_on": passport.issued_on.isoformat(),
              "passport_valid_until": passport.expiry_date.isoformat(),
              "passport_authority": "Cục Quản lý xuất nhập cảnh", **_ages(person, today)}
    return CredentialData(document_ref=passport.number, disclosable=claims, valid_until=passport.expiry_date)


BUILDERS = {"can_cuoc": _id_card, "giay_phep_lai_xe": _licence, "dang_ky_xe": _vehicle, "the_bhyt": _health,
            "ho_chieu": _passport}


def build(*, ctx: AccessContext, person: Person, config_id: str, document_ref: str = "") -> CredentialData:
    """The claims of one credential for ``person`` (who must be the actor or their ward)."""
    if not ctx.actor.may_read_person(person) or config_id not in BUILDERS:
        raise DocumentUnavailable(_("Không tìm thấy giấy tờ"), field="document")
    if person.status != PersonStatus.ALIVE:
        raise DocumentUnavailable(_("Không cấp giấy tờ số cho người đã chết hoặc mất tích"), field="document")
    data = BUILDERS[config_id](person, document_ref, timezone.localdate())
    record_access(ctx=ctx, person_id_numbers=[person.id_number], fields=[f"wallet:{config_id}", *data.disclosable])
    return data


def available_documents(person: Person, ctx: AccessContext | None = None) -> list[tuple[str, str, str]]:
    """(config_id, document_ref, label) the person can add to a wallet; with ``ctx`` (a page showing
    them) the read is recorded."""
    if ctx is not None:
        record_access(ctx=ctx, person_id_numbers=[person.id_number], fields=["documents"])
    out: list[tuple[str, str, str]] = [("can_cuoc", person.id_number, person.id_number)]
    for licence in DrivingLicence.objects.filter(person=person).order_by("number"):
        out.append(("giay_phep_lai_xe", licence.number, f"{licence.number} ({', '.join(licence.class_codes)})"))
    for vehicle in VehicleRegistration.objects.filter(owner=person, is_active=True).order_by("plate"):
        out.append(("dang_ky_xe", vehicle.plate, f"{vehicle.plate} — {vehicle.brand} {vehicle.model_name}"))
    for card in HealthInsuranceCard.objects.filter(person=person, is_active=True).order_by("number"):
        out.append(("the_bhyt", card.number, card.number))
    from popid.immigration.models import Passport, PassportStatus

    for passport in Passport.objects.filter(person=person, status=PassportStatus.VALID,
                                            expiry_date__gte=timezone.localdate()).order_by("-issued_on"):
        out.append(("ho_chieu", passport.number, f"{passport.number} (đến {passport.expiry_date:%d/%m/%Y})"))
    return out
