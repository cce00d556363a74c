"""Schemas of the traffic API (``extra="forbid"``: an unknown field is a 422 naming it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DetectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=1, max_length=40)
    plate: str = Field(min_length=1, max_length=20, description="as read, e.g. 30A-123.45 or 29-B1 123.45")
    vehicle_kind: Literal["car", "motorbike"]
    detected_at: datetime
    commune_code: str = Field(min_length=5, max_length=5)
    latitude: Decimal
    longitude: Decimal
    violation_code: str = Field(min_length=1, max_length=12)
    measured_value: Decimal | None = Field(default=None, description="km/h over the limit, or mg/l breath alcohol")


class DetectionOut(BaseModel):
    id: int
    created: bool
    state: str
    manual_reason: str
    plate: str
    violation_code: str
    evidence_sha256: list[str]


class CallbackOut(BaseModel):
    order_id: str
    state: str


class BatchDetectionIn(DetectionIn):
    evidence: list[str] = Field(default_factory=list, max_length=4,
                                description="evidence images, base64 (JPEG or PNG, at most 2 MB each)")


class DetectionBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    detections: list[BatchDetectionIn] = Field(min_length=1, max_length=100)


class DetectionBatchItemOut(BaseModel):
    index: int
    status: int  # 201 created, 200 replay of a stored detection, 422 refused (nothing written)
    id: int | None = None
    state: str = ""
    manual_reason: str = ""
    code: str = ""
    errors: list[dict[str, str]] = Field(default_factory=list)


class DetectionBatchOut(BaseModel):
    created: int
    replayed: int
    refused: int
    results: list[DetectionBatchItemOut]
