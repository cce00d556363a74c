"""Shared fixtures of the traffic tests: An's motorbike and car with his A1+B licence, a camera
operator agency with the traffic_detections grant, and helpers to post detections."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone
from joserfc.jwk import ECKey

from popid.documents import services as documents
from popid.documents.models import VehicleRegistration
from popid.exchange import management_services as manage
from tests.conftest import HOAN_KIEM
from tests.exchange.test_exchange_api import get_token
from tests.exchange.test_exchange_services import ADMIN, LEGAL

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.fixture
def vehicles(family, admin_actor):
    an = family["an"]
    moto = VehicleRegistration.objects.create(
        plate="29B1-12345", owner=an, vehicle_type="Xe mô tô", brand="Honda", model_name="Wave Alpha", colour="Đen",
        chassis_number="RLTEST0001", engine_number="E1", registered_on=date(2020, 1, 1), issued_by="Công an Hà Nội")
    car = VehicleRegistration.objects.create(
        plate="30A-678.90", owner=an, vehicle_type="Xe ô tô con", brand="Toyota", model_name="Vios", colour="Trắng",
        chassis_number="RLTEST0002", engine_number="E2", registered_on=date(2021, 1, 1), issued_by="Công an Hà Nội")
    licence = documents.issue_licence(
        actor=admin_actor, person=an, number="010123456789",
        classes=[{"class": "A1", "issued_on": "2010-01-01"},
                 {"class": "B", "issued_on": "2015-01-01", "valid_until": "2035-01-01"}],
        issued_on=date(2010, 1, 1), valid_until=date(2035, 1, 1), issued_by="Sở GTVT Hà Nội")
    return {"moto": moto, "car": car, "licence": licence}


def make_camera_agency(code: str = "csgt", *, grant: bool = True):
    key = ECKey.generate_key("P-256", parameters={"kid": f"{code}-1", "alg": "ES256"}, private=True)
    agency = manage.create_agency(actor=ADMIN, code=code, name="Phòng CSGT", kind="police")
    subsystem = manage.create_subsystem(actor=ADMIN, agency=agency, code="camera", name="Camera giám sát",
                                        jwks={"keys": [key.as_dict(private=False)]})
    until = timezone.now() + timedelta(days=365)
    if grant:
        manage.create_grant(actor=ADMIN, subsystem=subsystem, service="traffic_detections", legal_basis=LEGAL,
                            expires_at=until, fields=[])
    else:
        manage.create_grant(actor=ADMIN, subsystem=subsystem, service="life_status", legal_basis=LEGAL,
                            expires_at=until, fields=[])
    return subsystem, key


@pytest.fixture
def camera_token(client, db):
    subsystem, key = make_camera_agency()
    return get_token(client, subsystem, key)


def detection_body(**changes) -> dict:
    body = {"device_id": "CAM-HK-01", "plate": "29-B1 123.45", "vehicle_kind": "motorbike",
            "detected_at": (timezone.now() - timedelta(hours=1)).replace(microsecond=0).isoformat(),
            "commune_code": HOAN_KIEM, "latitude": "21.02880", "longitude": "105.85210",
            "violation_code": "M07-07C"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post_detection(client, token: str, body: dict, images: list[bytes] | None = None, raw: str | None = None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data: dict = {"detection": raw if raw is not None else json.dumps(body)}
    if images:
        data["evidence"] = [SimpleUploadedFile(f"e{i}.jpg", content, content_type="image/jpeg")
                            for i, content in enumerate(images)]
    return client.post("/api/v1/traffic/detections", data, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture(autouse=True)
def _traffic_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # keys, payment secret and SMS outbox of this test only
    settings.MEDIA_ROOT = tmp_path / "media"


def ingest(plate: str = "29-B1 123.45", *, kind: str = "motorbike", code: str = "M07-07C", **changes):
    from popid.traffic import services

    values = detection_body(plate=plate, vehicle_kind=kind, violation_code=code, **changes)
    from datetime import datetime

    values["detected_at"] = datetime.fromisoformat(values["detected_at"])
    detection, _created = services.ingest_detection(
        source="test/camera", data=services.IncomingDetection(images=[services.IncomingImage("a.jpg", JPEG)], **values))
    return detection
