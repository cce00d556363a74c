"""Immigration API schemas: inputs forbid unknown fields (a typo is a 422 naming it); personal
data travels in POST bodies only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class MrzIn(In):
    mrz: list[str] = Field(min_length=1, max_length=3, description=(
        "Các dòng MRZ (2 hoặc 3 dòng, ICAO 9303); độ dài dòng và các chữ số kiểm tra phải khớp, "
        "nếu không: 422 mrz_invalid nêu phép kiểm tra sai"))


class GuestFieldsIn(In):
    nationality: str = Field(max_length=3, description="Mã quốc tịch ICAO 3 chữ cái")
    document_number: str = Field(max_length=20)
    surname: str = Field(max_length=80)
    given_names: str = Field(default="", max_length=120)
    birth_date: date | None = None
    sex: str = Field(default="X", max_length=1)
    document_expiry: date


class VisaSchemaIn(In):
    number: str = Field(max_length=30)
    kind: str = Field(default="e_visa", description="visa | e_visa | exemption | trc")
    entries: str = Field(default="single", description="single | multiple")
    valid_from: date | None = None
    valid_until: date


class ArrivalIn(In):
    establishment: str = Field(max_length=40, description="Mã cơ sở lưu trú")
    mrz: list[str] | None = Field(default=None, max_length=3, description="MRZ hộ chiếu/thẻ (ưu tiên)")
    guest: GuestFieldsIn | None = Field(default=None, description="Thông tin nhập tay khi không có MRZ")
    arrival_at: datetime
    room: str = Field(default="", max_length=20)
    visa: VisaSchemaIn | None = None


class BatchArrivalItemIn(In):
    mrz: list[str] | None = Field(default=None, max_length=3)
    guest: GuestFieldsIn | None = None
    arrival_at: datetime
    room: str = Field(default="", max_length=20)
    visa: VisaSchemaIn | None = None


class BatchArrivalsIn(In):
    establishment: str = Field(max_length=40, description="Mã cơ sở lưu trú")
    arrivals: list[BatchArrivalItemIn] = Field(min_length=1, max_length=100,
                                               description="Tối đa 100 khách mỗi lần gọi")


class DepartureIn(In):
    establishment: str = Field(max_length=40)
    nationality: str = Field(max_length=3)
    document_number: str = Field(max_length=20)
    departure_at: datetime


class StayOut(Schema):
    stay_id: int
    establishment: str
    nationality: str
    document_number: str
    arrival_at: datetime
    departure_at: datetime | None
    late: bool
    warnings: list[dict[str, Any]]


class PersonLookupIn(In):
    nationality: str = Field(max_length=3)
    document_number: str = Field(max_length=20)


class BorderEventIn(In):
    kind: str = Field(description="entry | exit")
    gate: str = Field(max_length=40, description="Mã cửa khẩu")
    mrz: list[str] = Field(min_length=2, max_length=3, description="MRZ hộ chiếu/thẻ")
    at: datetime
    visa: VisaSchemaIn | None = None


class BorderEventOut(Schema):
    event_id: int
    kind: str
    gate: str
    nationality: str
    document_number: str
    at: datetime


class ResidenceCardIn(In):
    nationality: str = Field(min_length=1, max_length=3)
    document_number: str = Field(min_length=1, max_length=20)
    number: str = Field(min_length=1, max_length=20)
    kind: str = "temporary"
    purpose: str = Field(default="", max_length=5)
    valid_from: date
    valid_until: date
    issuing_unit: str = Field(min_length=1, max_length=200)
    commune_code: str = Field(min_length=5, max_length=5)
    address: str = Field(default="", max_length=300)


class ResidenceCardOut(Schema):
    card_id: int
    number: str
    kind: str
    purpose: str
    valid_from: date
    valid_until: date | None
    issuing_unit: str


class ReviewIn(In):
    note: str = Field(min_length=1, max_length=300)
