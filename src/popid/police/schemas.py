"""Police API schemas: inputs forbid unknown fields (a typo is a 422 naming it); persons are
named in POST bodies only, never in URLs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

ROLE = Literal["victim", "witness", "suspect", "reporter"]


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class ClassifyIn(In):
    category_code: str = Field(min_length=1, max_length=40, description="Mã loại tin báo trong danh mục")
    note: str = Field(default="", max_length=2000)


class AssignIn(In):
    username: str = Field(min_length=1, max_length=150, description="Cán bộ của đơn vị đang giải quyết")


class TransferIn(In):
    note: str = Field(min_length=1, max_length=2000, pattern=r"\S")


class ExtendIn(In):
    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S",
                        description="Lý do gia hạn (Điều 147 khoản 2, 3 BLTTHS 2015; tối đa 2 lần)")


class DecideIn(In):
    outcome_code: str = Field(min_length=1, max_length=20, description="Mã kết quả trong danh mục")
    note: str = Field(default="", max_length=2000)


class OpenCaseIn(In):
    title: str = Field(min_length=1, max_length=300, pattern=r"\S")
    confidentiality: Literal["normal", "secret"] = "normal"


class LinkPersonIn(In):
    id_number: str = Field(min_length=12, max_length=12, pattern=r"^[0-9]{12}$")
    role: ROLE


class CandidatesIn(In):
    full_name: str = Field(min_length=2, max_length=150, pattern=r"\S")
    birth_year: int = Field(ge=1900, le=2100, description="Năm sinh (không sau năm hiện tại)")
    commune_code: str = Field(default="", max_length=5, pattern=r"^([0-9]{5})?$")


class ConfirmCandidateIn(CandidatesIn):
    id_number: str = Field(min_length=12, max_length=12, pattern=r"^[0-9]{12}$",
                           description="Số định danh của một ứng viên do đối sánh đưa ra")
    role: ROLE


class NoteIn(In):
    text: str = Field(min_length=1, max_length=10_000, pattern=r"\S")


class EvidenceIn(In):
    label: str = Field(min_length=1, max_length=40, pattern=r"\S")
    description: str = Field(min_length=1, max_length=500, pattern=r"\S")
    holder: str = Field(min_length=1, max_length=200, pattern=r"\S")


class HandOverIn(In):
    label: str = Field(min_length=1, max_length=40, pattern=r"\S")
    to_holder: str = Field(min_length=1, max_length=200, pattern=r"\S")
    purpose: str = Field(min_length=1, max_length=300, pattern=r"\S")


DOCUMENT_KIND = Literal["record", "decision", "statement", "expert", "photo", "other"]


class DocumentOut(Schema):
    id: int
    kind: str
    title: str
    name: str
    content_type: str
    size: int
    sha256: str
    at: datetime
    uploaded_by: str


class ReportOut(Schema):
    code: str
    channel: str
    category_code: str
    commune_code: str
    unit_code: str
    state: str
    received_at: datetime
    occurred_at: datetime
    assigned_to: str | None
    deadline: date
    extensions: int
    outcome_code: str
    outcome_legal_ref: str
    case_number: str | None


class ReportDetailOut(ReportOut):
    description: str
    anonymous: bool
    events: list[dict[str, Any]]


class CaseOut(Schema):
    number: str
    title: str
    unit_code: str
    confidentiality: str
    opened_at: datetime
    closed_at: datetime | None
    sealed_until: datetime
    report_code: str | None


class CasePersonOut(Schema):
    role: str
    id_number: str
    full_name: str
    method: str
    match_probability: float | None
    linked_by: str
    linked_at: datetime


class CaseDetailOut(CaseOut):
    investigators: list[str]
    persons: list[CasePersonOut]
    evidence: list[dict[str, Any]]
    custody: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    documents: list[dict[str, Any]]


class CandidateOut(Schema):
    id_number: str
    full_name: str
    birth_year: int
    commune_code: str
    match_probability: float
    match_weight: float


class TimelineItemOut(Schema):
    at: datetime
    kind: str
    actor: str
    text: str


class NoteOut(Schema):
    id: int
    at: datetime
    author: str
    text: str


class CustodyOut(Schema):
    seq: int
    item: str
    at: datetime
    from_holder: str
    to_holder: str
    purpose: str
    recorded_by: str
    hash: str
