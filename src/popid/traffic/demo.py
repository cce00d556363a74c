"""Demo data for ``popid seed`` / ``make run``: camera detections of the seeded vehicles (the demo
citizens' vehicles first), with a generated evidence picture, waiting for an officer of the
commune where they happened. Runs once (skipped when demo detections exist)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from django.utils import timezone
from PIL import Image, ImageDraw

from popid.core import admin_units
from popid.core.demo_accounts import accounts_file
from popid.documents.models import VehicleRegistration
from popid.traffic import services
from popid.traffic.models import Detection, VehicleKind
from popid.traffic.plates import InvalidPlate, parse_plate

SOURCE = "demo/camera"
FALLBACK_COMMUNE = "00070"  # Phường Hoàn Kiếm
COUNT = 8
VIOLATIONS = {VehicleKind.MOTORBIKE: [("M07-07C", None), ("M07-04A", "15"), ("M07-02H", None)],
              VehicleKind.CAR: [("C06-09B", None), ("C06-07A", "38")]}


def evidence_picture(plate: str, when: str) -> bytes:
    """A small JPEG standing in for the camera frame: the plate and the time stamp."""
    image = Image.new("RGB", (480, 270), (52, 58, 64))
    draw = ImageDraw.Draw(image)
    draw.rectangle((150, 150, 330, 200), fill=(245, 245, 245), outline=(0, 0, 0), width=3)
    draw.text((170, 168), plate, fill=(0, 0, 0))
    draw.text((10, 10), f"CAMERA PHAT NGUOI  {when}", fill=(255, 214, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _demo_citizens() -> list[str]:
    try:
        accounts = json.loads(accounts_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [a["username"] for a in accounts if a.get("role") == "citizen"]


def seed_demo() -> list[str]:
    if Detection.objects.filter(source=SOURCE).exists():
        return []
    citizens = _demo_citizens()
    vehicles = list(VehicleRegistration.objects.filter(owner__id_number__in=citizens, is_active=True)
                    .select_related("owner").order_by("plate"))
    vehicles += list(VehicleRegistration.objects.filter(is_active=True).exclude(owner__id_number__in=citizens)
                     .select_related("owner").order_by("id")[:COUNT - len(vehicles)])
    now = timezone.now().replace(second=0, microsecond=0)
    lines = []
    for index, vehicle in enumerate(vehicles[:COUNT]):
        try:
            plate = parse_plate(vehicle.plate)
        except InvalidPlate:
            continue
        kind = services.registration_kind(vehicle)
        code, measured = VIOLATIONS[kind][index % len(VIOLATIONS[kind])]
        commune = vehicle.owner.commune_code if admin_units.is_active_commune(vehicle.owner.commune_code or "") \
            else FALLBACK_COMMUNE
        when = now - timedelta(hours=3 * index + 1)
        detection, created = services.ingest_detection(source=SOURCE, data=services.IncomingDetection(
            device_id=f"CAM-{commune}-{index % 3 + 1:02d}", plate=plate.display, vehicle_kind=kind, detected_at=when,
            commune_code=commune, latitude="21.02880", longitude="105.85210", violation_code=code,
            measured_value=measured,
            images=[services.IncomingImage("frame.jpg", evidence_picture(plate.display, f"{when:%Y-%m-%d %H:%M}"))]))
        if created:
            lines.append(f"  {plate.display} ({code}) tại xã/phường {commune}: /phat-nguoi/can-bo/{detection.pk}/")
    if lines:
        lines.insert(0, "  Phát hiện vi phạm chờ cán bộ xác nhận (nộp phạt tại /phat-nguoi/, công dân xem tại "
                        "/phat-nguoi/cua-toi/):")
    return lines
