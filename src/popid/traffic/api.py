"""Traffic API (``/api/v1/traffic``): agency subsystems (cameras, patrol devices) send
detections with a client_credentials token holding the ``exchange.traffic_detections`` scope
(the exchange's grants and tokens, ``exchange.tokens``); the payment gateway posts its signed
notices to the callback. Errors are RFC 9457 problem JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.files import UploadedFile
from ninja.params import functions as param
from pydantic import ValidationError

from popid.core.errors import ValidationFailed
from popid.core.permissions import Permission, operation_requires
from popid.exchange.models import Service
from popid.exchange.tokens import AGENCY_AUTH, require_scope
from popid.services.errors import NoticeMalformed
from popid.services.payments.sandbox import NOTICE_OPENAPI, SIGNATURE_HEADER
from popid.traffic import services
from popid.traffic.errors import InvalidEvidence
from popid.traffic.schemas import (
    CallbackOut,
    DetectionBatchIn,
    DetectionBatchItemOut,
    DetectionBatchOut,
    DetectionIn,
    DetectionOut,
)

router = Router(tags=["traffic"])
DETECTION_FIELD = param.Form(..., description="the detection as JSON (DetectionIn)")
EVIDENCE_FIELD = param.File(default=None, description="evidence images, JPEG or PNG, at most 4 of 2 MB")
PROBLEMS = {400: dict, 401: dict, 403: dict, 404: dict, 409: dict, 413: dict, 422: dict}


def _detection_in(raw: str) -> DetectionIn:
    try:
        return DetectionIn.model_validate_json(raw)
    except ValidationError as exc:
        raise ValidationFailed([{"field": ".".join(str(p) for p in e["loc"]) or "detection", "reason": e["type"],
                                 "message": e["msg"]} for e in exc.errors()]) from None


@router.post("/detections", auth=AGENCY_AUTH, response={200: DetectionOut, 201: DetectionOut, **PROBLEMS},
             summary="Gửi một phát hiện vi phạm (multipart: detection = JSON, evidence = ảnh JPEG/PNG)")
@operation_requires(Permission.AGENCY_EXCHANGE)
def post_detection(request: HttpRequest, detection: str = DETECTION_FIELD,
                   evidence: list[UploadedFile] = EVIDENCE_FIELD) -> Any:
    subsystem = require_scope(request, Service.TRAFFIC_DETECTIONS)
    body = _detection_in(detection)
    images = []
    for upload in evidence or []:
        if (upload.size or 0) > services.MAX_IMAGE_BYTES:  # refused from the declared size, before reading
            raise InvalidEvidence(field="evidence")
        images.append(services.IncomingImage(name=(upload.name or "")[:100], content=upload.read()))
    data = services.IncomingDetection(images=images, **body.model_dump())
    row, created = services.ingest_detection(source=f"{subsystem.agency.code}/{subsystem.code}", data=data)
    return (201 if created else 200), {
        "id": row.pk, "created": created, "state": row.state, "manual_reason": row.manual_reason,
        "plate": row.plate_display or row.plate_text, "violation_code": row.violation_code,
        "evidence_sha256": [i.sha256 for i in row.images.all()]}


@router.post("/detections/batch", auth=AGENCY_AUTH, response={200: DetectionBatchOut, **PROBLEMS},
             summary="Gửi tối đa 100 phát hiện một lần (JSON, ảnh base64); mỗi phát hiện được xử lý riêng")
@operation_requires(Permission.AGENCY_EXCHANGE)
def post_detection_batch(request: HttpRequest, body: DetectionBatchIn) -> Any:
    """Each item goes through the same service as a single detection, in its own transaction:
    idempotent per item (device, plate, time), a refused item writes nothing and does not stop the
    others; the answer lists every item's outcome in order."""
    from popid.core.errors import DomainError

    subsystem = require_scope(request, Service.TRAFFIC_DETECTIONS)
    source = f"{subsystem.agency.code}/{subsystem.code}"
    results: list[DetectionBatchItemOut] = []
    for index, item in enumerate(body.detections):
        values = item.model_dump(exclude={"evidence"})
        try:
            images = []
            for n, encoded in enumerate(item.evidence):
                if len(encoded) > services.MAX_IMAGE_BYTES * 4 // 3 + 8:
                    raise InvalidEvidence(field=f"evidence[{n}]")
                try:
                    content = base64.b64decode(encoded, validate=True)
                except (binascii.Error, ValueError):
                    raise InvalidEvidence(field=f"evidence[{n}]") from None
                images.append(services.IncomingImage(name=f"evidence-{n}", content=content))
            row, created = services.ingest_detection(source=source, data=services.IncomingDetection(
                images=images, **values))
        except DomainError as exc:
            results.append(DetectionBatchItemOut(index=index, status=422, code=exc.code, errors=exc.errors()))
            continue
        results.append(DetectionBatchItemOut(index=index, status=201 if created else 200, id=row.pk, state=row.state,
                                    manual_reason=row.manual_reason))
    return {"created": sum(r.status == 201 for r in results), "replayed": sum(r.status == 200 for r in results),
            "refused": sum(r.status == 422 for r in results), "results": results}


@router.post("/payments/callback", auth=None, response={200: CallbackOut, **PROBLEMS},
             url_name="traffic_payment_callback", openapi_extra=NOTICE_OPENAPI,
             summary="Thông báo có chữ ký của cổng thanh toán (nộp phạt)")
@operation_requires(Permission.PUBLIC)
def payment_callback(request: HttpRequest) -> Any:
    if request.content_type != "application/json":  # the signature covers the raw JSON bytes
        raise NoticeMalformed()
    payment = services.process_fine_notice(request.body, request.headers.get(SIGNATURE_HEADER, ""))
    return {"order_id": payment.order_id, "state": payment.state}
