"""Agency API schemas. Inputs forbid unknown fields (a typo is a 422 naming it). Personal data
travels only in POST bodies, never in URLs (which end up in proxy logs)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from django.utils import timezone
from ninja import Schema
from pydantic import ConfigDict, Field

from popid.core.schema_types import NonBlank, OneOf
from popid.exchange import fields as catalogue
from popid.exchange.access import RequestContext

IdNumber = Field(pattern=r"^\d{12}$", description="Số định danh cá nhân, 12 chữ số")
IdNumberText = Annotated[str, Field(pattern=r"^\d{12}$")]
FieldName = OneOf(catalogue.FIELDS)
SensitiveFieldName = OneOf(sorted(catalogue.SENSITIVE))


def _a_year_ahead(schema: dict[str, Any]) -> None:
    """An example expiry that is valid whenever the document is generated."""
    schema["examples"] = [(timezone.now() + timedelta(days=365)).replace(microsecond=0).isoformat()]


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class ContextIn(In):
    """Why this request is made; recorded in the citizen's access history and the ledger."""

    purpose: NonBlank(200) = Field(description="Mục đích khai thác")  # type: ignore[valid-type]
    legal_basis: NonBlank(200) = Field(description="Căn cứ pháp lý")  # type: ignore[valid-type]
    official: NonBlank(150) = Field(  # type: ignore[valid-type]
        description="Cán bộ, nhân viên khởi tạo yêu cầu (họ tên / mã)")
    consent_ref: str = Field(default="", max_length=40, description="Mã đồng ý của công dân (DY-…)")
    hidden_until: datetime | None = Field(default=None, examples=["2099-12-31T00:00:00+07:00"],
                                          description="Tra cứu bảo mật: ẩn với công dân đến thời điểm này "
                                                      "(phải ở tương lai; quá khứ: 422 past)")

    def to_rc(self) -> RequestContext:
        return RequestContext(purpose=self.purpose, legal_basis=self.legal_basis, official=self.official,
                              consent_ref=self.consent_ref, hidden_until=self.hidden_until)


class Attributes(In):
    full_name: str | None = Field(default=None, max_length=150)
    birth_date: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD, hoặc YYYY / YYYY-MM")
    sex: str | None = Field(default=None, max_length=1, description="M hoặc F")
    nationality: str | None = Field(default=None, max_length=2)
    birth_place: str | None = Field(default=None, max_length=300)
    hometown: str | None = Field(default=None, max_length=300)
    old_id_number: str | None = Field(default=None, max_length=9)
    id_card: str | None = Field(default=None, max_length=12, description="Số thẻ căn cước")
    ethnicity: str | None = Field(default=None, max_length=60)
    religion: str | None = Field(default=None, max_length=60)
    blood_type: str | None = Field(default=None, max_length=3)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)


class EkycVerifyIn(In):
    context: ContextIn
    id_number: str = IdNumber
    full_name: NonBlank(150)  # type: ignore[valid-type]
    birth_date: NonBlank(10) = Field(description="YYYY-MM-DD, hoặc YYYY / YYYY-MM")  # type: ignore[valid-type]
    attributes: Attributes | None = None

    def all_attributes(self) -> dict[str, Any]:
        extra = self.attributes.model_dump(exclude_none=True) if self.attributes else {}
        return {**extra, "full_name": self.full_name, "birth_date": self.birth_date}


class EkycVerifyOut(Schema):
    id_number: str
    match: bool = Field(description="true khi mọi thuộc tính đều khớp")
    attributes: dict[str, bool]


class BatchItemIn(In):
    ref: str = Field(default="", max_length=100, description="Mã tham chiếu của cơ quan, trả lại nguyên văn")
    id_number: str = IdNumber
    attributes: Attributes


class BatchIn(In):
    context: ContextIn
    items: list[BatchItemIn] = Field(min_length=1, description="Tối đa 1.000 người; nhiều hơn: 413 batch_too_large")


class BatchItemOut(Schema):
    ref: str | None = None
    id_number: str
    match: bool
    attributes: dict[str, bool]
    error: str | None = Field(default=None, description="consent_missing, consent_expired… khi thiếu đồng ý")


class BatchOut(Schema):
    results: list[BatchItemOut]


class PersonQueryIn(In):
    context: ContextIn
    id_number: str = IdNumber
    fields: list[FieldName] = Field(min_length=1, max_length=30,  # type: ignore[valid-type]
                                    description="Tên trường trong danh mục (GET /fields)")


class PersonDataOut(Schema):
    id_number: str
    fields: dict[str, Any]
    consent_ref: str | None


class LifeStatusIn(In):
    context: ContextIn
    id_numbers: list[IdNumberText] = Field(min_length=1,
                                           description="Tối đa 1.000 số định danh; nhiều hơn: 413")


class LifeStatusItem(Schema):
    id_number: str
    status: str = Field(description="alive, deceased, missing hoặc unknown")
    died_on: str | None


class LifeStatusOut(Schema):
    results: list[LifeStatusItem]


class ConsentRequestIn(In):
    context: ContextIn
    id_number: str = IdNumber
    fields: list[SensitiveFieldName] = Field(min_length=1, max_length=10,  # type: ignore[valid-type]
                                             description="Chỉ các trường nhạy cảm (ngoài ra: 422 not_sensitive)")
    valid_until: datetime = Field(json_schema_extra=_a_year_ahead,
                                  description="Trong vòng 730 ngày tới (ngoài ra: 422 range)")


class ConsentOut(Schema):
    reference: str
    status: str
    fields: list[str]
    purpose: str
    valid_until: datetime
    requested_at: datetime
    decided_at: datetime | None


class FieldOut(Schema):
    name: str
    label: str
    sensitive: bool
    verifiable: bool


class SubscriptionIn(In):
    context: ContextIn
    url: str = Field(max_length=500, description="https tới địa chỉ công khai")
    event_types: list[str] = Field(min_length=1)


class SubscriptionOut(Schema):
    id: int
    url: str
    event_types: list[str]
    is_active: bool
    created_at: datetime
