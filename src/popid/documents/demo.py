"""Demo documents for a seeded installation: a driving licence for about a third of the adults,
a vehicle registration for a share of them and a health-insurance card for most people, plus
for every demo citizen of ``identity.demo`` (the level-2 citizen always gets a licence with
classes A1 and B, a motorbike and a card). Deterministic (seeded by the ID number) and idempotent.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta

from django.db import transaction

from popid.core.access import Actor
from popid.core.admin_units import province_of_commune
from popid.documents import services
from popid.documents.models import DocumentEvent, DrivingLicence, HealthInsuranceCard, VehicleRegistration
from popid.registry.models import Person, PersonStatus

REFERENCE_DAY = date(2026, 11, 1)
ADULT_BORN_BEFORE = date(2008, 11, 1)
LICENCE_SHARE = 0.35
VEHICLE_SHARE = 0.25
HEALTH_SHARE = 0.9
MAX_PERSONS = 20000
BRANDS = [("Honda", "Wave Alpha", "Xe mô tô"), ("Yamaha", "Sirius", "Xe mô tô"), ("Honda", "Vision", "Xe mô tô"),
          ("Toyota", "Vios", "Xe ô tô con"), ("VinFast", "VF 5", "Xe ô tô con"), ("Hyundai", "Accent", "Xe ô tô con")]
COLOURS = ["Đen", "Trắng", "Đỏ", "Xanh", "Bạc"]
CLINICS = ["Bệnh viện Đa khoa Hà Đông", "Trạm y tế phường", "Bệnh viện Bạch Mai", "Bệnh viện Chợ Rẫy",
           "Trung tâm y tế quận"]
LETTERS = "ABCDEFGHKLMNPSTUVXYZ"


def _rng(person: Person, salt: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{salt}:{person.id_number}".encode()).hexdigest()[:16], 16))


def _licence_number(person: Person) -> str:
    return f"{person.province_code or '01'}{person.id_number[-10:]}"[:12]


def _licence(person: Person, *, force: bool = False) -> DrivingLicence | None:
    rng = _rng(person, "gplx")
    if not force and rng.random() > LICENCE_SHARE:
        return None
    issued = (person.birth_date or date(person.birth_year, 1, 1)) + timedelta(days=365 * 18 + rng.randrange(3650))
    issued = min(issued, REFERENCE_DAY - timedelta(days=30))
    classes = [{"class": "A1", "issued_on": issued.isoformat(), "valid_until": ""}]
    valid_until = None
    if force or rng.random() < 0.5:
        b_issued = issued + timedelta(days=rng.randrange(30, 900))
        b_issued = min(b_issued, REFERENCE_DAY - timedelta(days=10))
        valid_until = b_issued + timedelta(days=365 * 10)
        # Others' licences may run out after REFERENCE_DAY, as licences do; a demo citizen's must stay
        # valid for years of real time (one drawn to end in Nov. 2026 was expired by December, and
        # the wallet refused to issue it: a browser test failed on about 1 % of random ID numbers).
        if valid_until < REFERENCE_DAY or (force and valid_until < REFERENCE_DAY + timedelta(days=365 * 5)):
            b_issued = REFERENCE_DAY - timedelta(days=200)
            valid_until = b_issued + timedelta(days=365 * 10)
        classes.append({"class": "B", "issued_on": b_issued.isoformat(), "valid_until": valid_until.isoformat()})
    return DrivingLicence(number=_licence_number(person), person=person, classes=services.clean_classes(classes),
                          issued_on=issued, valid_until=valid_until,
                          issued_by=f"Phòng CSGT Công an tỉnh/thành phố mã {person.province_code or '01'}")


def _vehicle(person: Person, plates: set[str], *, force: bool = False) -> VehicleRegistration | None:
    rng = _rng(person, "dkx")
    if not force and rng.random() > VEHICLE_SHARE:
        return None
    brand, model_name, kind = BRANDS[0] if force else rng.choice(BRANDS)
    province = person.province_code or "01"
    digits = int(hashlib.sha256(person.id_number.encode()).hexdigest()[:8], 16)
    plate = f"{int(province) + 28:02d}{rng.choice(LETTERS)}{rng.randrange(1, 9)}-{digits % 100000:05d}"
    while plate in plates:
        plate = f"{plate[:-5]}{rng.randrange(100000):05d}"
    plates.add(plate)
    return VehicleRegistration(
        plate=plate, owner=person, vehicle_type=kind, brand=brand, model_name=model_name,
        colour=rng.choice(COLOURS), chassis_number=f"RL{person.id_number}{rng.randrange(1000):03d}",
        engine_number=f"E{digits:010d}", registered_on=REFERENCE_DAY - timedelta(days=rng.randrange(30, 3000)),
        issued_by=f"Công an tỉnh/thành phố mã {province}")


def _health(person: Person, *, force: bool = False) -> HealthInsuranceCard | None:
    rng = _rng(person, "bhyt")
    if not force and rng.random() > HEALTH_SHARE:
        return None
    return HealthInsuranceCard(
        number=f"{rng.choice(['GD', 'DN', 'HT'])}4{province_of_commune(person.commune_code) or '01'}"
               f"{person.id_number[-10:]}",
        person=person, benefit_level=rng.choice([2, 3, 4, 4, 4]), initial_clinic=rng.choice(CLINICS),
        valid_from=date(REFERENCE_DAY.year, 1, 1), valid_until=date(REFERENCE_DAY.year + 1, 12, 31))


@transaction.atomic
def seed_documents(*, demo_id_numbers: list[str] | None = None) -> dict[str, int]:
    """Documents for the seeded population (the first ``MAX_PERSONS`` living persons) and the demo
    citizens, in bulk like the registry seeder (an ``issue`` event is written per licence)."""
    alive = Person.objects.filter(status=PersonStatus.ALIVE, id_number__regex=r"^[0-9]{12}$")
    demo_ids = set(demo_id_numbers or [])
    persons = list(alive.filter(id_number__in=demo_ids)) + list(alive.order_by("id")[:MAX_PERSONS])
    has_licence = set(DrivingLicence.objects.values_list("person_id", flat=True))
    has_vehicle = set(VehicleRegistration.objects.values_list("owner_id", flat=True))
    has_card = set(HealthInsuranceCard.objects.values_list("person_id", flat=True))
    plates = set(VehicleRegistration.objects.values_list("plate", flat=True))
    numbers = set(DrivingLicence.objects.values_list("number", flat=True))
    card_numbers = set(HealthInsuranceCard.objects.values_list("number", flat=True))
    licences: list[DrivingLicence] = []
    vehicles: list[VehicleRegistration] = []
    cards: list[HealthInsuranceCard] = []
    for person in persons:
        force = person.id_number in demo_ids
        adult = person.birth_date is not None and person.birth_date <= ADULT_BORN_BEFORE
        if adult and person.pk not in has_licence:
            licence = _licence(person, force=force)
            if licence is not None and licence.number not in numbers:
                licences.append(licence)
                numbers.add(licence.number)
            has_licence.add(person.pk)
        if adult and person.pk not in has_vehicle:
            vehicle = _vehicle(person, plates, force=force)
            if vehicle is not None:
                vehicles.append(vehicle)
            has_vehicle.add(person.pk)
        if person.pk not in has_card:
            card = _health(person, force=force)
            if card is not None and card.number not in card_numbers:
                card_numbers.add(card.number)
                cards.append(card)
            has_card.add(person.pk)
    DrivingLicence.objects.bulk_create(licences, batch_size=1000)
    VehicleRegistration.objects.bulk_create(vehicles, batch_size=1000)
    HealthInsuranceCard.objects.bulk_create(cards, batch_size=1000)
    actor = Actor.system("seed-documents")
    DocumentEvent.objects.bulk_create([
        DocumentEvent(document_kind="driving_licence", document_number=lic.number,
                      person_id_number=lic.person.id_number, action="issue", actor=actor.label,
                      reason="Dữ liệu mẫu", legal_ref="") for lic in licences], batch_size=1000)
    return {"licences": len(licences), "vehicles": len(vehicles), "health_cards": len(cards)}
