"""Traffic detections through the agency API: the grant, idempotency, evidence checks, the manual
queue and every kind of bad input (nothing is written when refused)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from popid.core.models import AccessRecord
from popid.traffic.models import Detection, EvidenceImage
from popid.traffic.services import MAX_IMAGE_BYTES
from tests.exchange.test_exchange_api import get_token
from tests.traffic.conftest import JPEG, PNG, detection_body, make_camera_agency, post_detection


def test_detection_with_evidence_is_stored_once_and_waits_for_review(client, vehicles, camera_token):
    out_body = detection_body()
    response = post_detection(client, camera_token, out_body, images=[JPEG, PNG])
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["state"] == "pending" and out["plate"] == "29-B1 123.45" and out["created"] is True
    assert out["evidence_sha256"] == [hashlib.sha256(JPEG).hexdigest(), hashlib.sha256(PNG).hexdigest()]
    detection = Detection.objects.get()
    assert detection.vehicle == vehicles["moto"] and detection.source == "csgt/camera"
    image = EvidenceImage.objects.get(sha256=hashlib.sha256(JPEG).hexdigest())
    assert image.file.read() == JPEG and image.content_type == "image/jpeg"
    owner_reads = AccessRecord.objects.filter(person_id_number=vehicles["moto"].owner.id_number, channel="traffic")
    assert owner_reads.count() == 1
    # replayed: same device, plate (any spelling) and time -> the same detection, nothing new
    again = post_detection(client, camera_token, {**detection_body(), "plate": "29B1-12345",
                                                  "detected_at": out_body["detected_at"]}, images=[JPEG])
    assert again.status_code == 200 and again.json()["id"] == out["id"] and again.json()["created"] is False
    assert Detection.objects.count() == 1 and EvidenceImage.objects.count() == 2 and owner_reads.count() == 1


@pytest.mark.parametrize(("changes", "reason"), [
    ({"plate": "3O?-1"}, "unreadable_plate"),
    ({"plate": "88C-999.99"}, "unknown_vehicle"),
    ({"vehicle_kind": "car", "violation_code": "C06-09B"}, "kind_mismatch"),
    ({"violation_code": "C06-09B"}, "not_applicable"),
])
def test_doubtful_detections_go_to_the_manual_queue(client, vehicles, camera_token, changes, reason):
    response = post_detection(client, camera_token, detection_body(**changes))
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "manual" and response.json()["manual_reason"] == reason


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"violation_code": "X99-99"}, "violation_code", "unknown_violation"),
    ({"detected_at": (timezone.now() + timedelta(hours=1)).isoformat()}, "detected_at", "validation_failed"),
    ({"detected_at": (timezone.now() - timedelta(days=400)).isoformat()}, "detected_at", "validation_failed"),
    ({"commune_code": "99999"}, "commune_code", "validation_failed"),
    ({"latitude": "48.85"}, "latitude", "validation_failed"),
    ({"violation_code": "M07-08A"}, "measured_value", "validation_failed"),
    ({"vehicle_kind": "tank"}, "vehicle_kind", "validation_failed"),
    ({"colour": "red"}, "colour", "validation_failed"),
])
def test_bad_detections_are_refused_and_write_nothing(client, vehicles, camera_token, changes, field, code):
    response = post_detection(client, camera_token, detection_body(**changes))
    assert response.status_code == 422, response.content
    problem = response.json()
    assert problem["code"] == code
    assert field in {e["field"] for e in problem.get("errors", [])}
    assert not Detection.objects.exists()


def test_malformed_json_is_refused(client, vehicles, camera_token):
    response = post_detection(client, camera_token, {}, raw="{not json")
    assert response.status_code == 422 and not Detection.objects.exists()


@pytest.mark.parametrize(("images", "field"), [
    ([b"%PDF-1.7 not an image" + b"\x00" * 50], "evidence[0]"),
    ([JPEG, b"GIF89a" + b"\x00" * 20], "evidence[1]"),
    ([JPEG] * 5, "evidence"),
])
def test_evidence_that_is_not_an_image_or_too_many_is_refused(client, vehicles, camera_token, images, field):
    response = post_detection(client, camera_token, detection_body(), images=images)
    assert response.status_code == 422 and response.json()["code"] == "invalid_evidence"
    assert response.json()["errors"][0]["field"] == field
    assert not Detection.objects.exists() and not EvidenceImage.objects.exists()


def test_oversized_image_is_refused(client, vehicles, camera_token):
    big = JPEG + b"\x00" * MAX_IMAGE_BYTES
    response = post_detection(client, camera_token, detection_body(), images=[big])
    assert response.status_code == 422 and response.json()["code"] == "invalid_evidence"
    assert not Detection.objects.exists()


def test_no_token_or_no_grant_is_refused(client, vehicles):
    assert post_detection(client, "not-a-token", detection_body()).status_code == 401
    subsystem, key = make_camera_agency("bank2", grant=False)
    token = get_token(client, subsystem, key)
    response = post_detection(client, token, detection_body())
    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"
    assert not Detection.objects.exists()


def test_staff_token_cannot_post_detections(client, vehicles, officer_hoan_kiem):
    from tests.conftest import bearer

    response = client.post("/api/v1/traffic/detections", {"detection": "{}"}, **{
        "HTTP_" + k.upper().replace("-", "_"): v for k, v in bearer(officer_hoan_kiem).items()})
    assert response.status_code == 401


def test_batch_of_detections_each_handled_on_its_own(client, vehicles, camera_token):
    import base64
    import json as jsonlib

    good = {**detection_body(), "evidence": [base64.b64encode(JPEG).decode()]}
    replay = {**good, "plate": "29B1-12345", "evidence": []}  # same device and time: the same detection
    future = detection_body(device_id="CAM-2", detected_at=(timezone.now() + timedelta(hours=1)).isoformat())
    not_image = {**detection_body(device_id="CAM-3"), "evidence": [base64.b64encode(b"GIF89a....").decode()]}
    not_base64 = {**detection_body(device_id="CAM-4"), "evidence": ["***"]}
    response = client.post("/api/v1/traffic/detections/batch",
                           jsonlib.dumps({"detections": [good, replay, future, not_image, not_base64]}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {camera_token}")
    assert response.status_code == 200, response.content
    out = response.json()
    assert (out["created"], out["replayed"], out["refused"]) == (1, 1, 3)
    assert [r["status"] for r in out["results"]] == [201, 200, 422, 422, 422]
    assert out["results"][2]["errors"][0]["field"] == "detected_at"
    assert out["results"][3]["code"] == "invalid_evidence" == out["results"][4]["code"]
    assert Detection.objects.count() == 1 and EvidenceImage.objects.count() == 1


def test_batch_over_100_or_without_grant_is_refused(client, vehicles, camera_token):
    import json as jsonlib

    body = jsonlib.dumps({"detections": [detection_body(device_id=f"D{i}") for i in range(101)]})
    response = client.post("/api/v1/traffic/detections/batch", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {camera_token}")
    assert response.status_code == 422 and not Detection.objects.exists()
    assert client.post("/api/v1/traffic/detections/batch", body, content_type="application/json").status_code == 401
