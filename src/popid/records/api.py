"""Records API (``/api/v1/records``): the cross-record search, digitisation progress per unit, one
digitised record with its pages and person links, and an officer's decision on a proposed link.
Staff token or console session; every error is RFC 9457 problem JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from popid.core.permissions import Permission, operation_requires
from popid.core.schema_types import IsoDate
from popid.records import selectors, services
from popid.records.models import LinkState

router = Router(tags=["records"])


class SearchIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: str = Field("", max_length=200)
    person: str = Field("", max_length=100)
    place: str = Field("", max_length=5)
    category: str = Field("", max_length=40)
    date_from: IsoDate | None = None
    date_to: IsoDate | None = None
    kind: Literal["", "pages", "reports", "cases"] = Field("", description="Chỉ một danh sách (để sang trang)")
    page: int = Field(1, ge=1, le=selectors.MAX_PAGE, description="Trang (mỗi danh sách PAGE_SIZE kết quả)")


class RecordHitOut(Schema):
    kind: str
    key: str
    title: str
    when: datetime
    unit_code: str
    snippet: str
    page: int | None = None


class RecordSearchOut(Schema):
    pages: list[RecordHitOut]
    reports: list[RecordHitOut]
    cases: list[RecordHitOut]
    person_id_number: str | None = None
    page: int
    page_size: int
    more_pages: bool
    more_reports: bool
    more_cases: bool


class ProgressOut(Schema):
    unit_code: str
    records: int
    pages: int
    ocr_done: int
    ocr_waiting: int
    ocr_failed: int
    linked: int
    proposals: int


class PageOut(Schema):
    number: int
    text: str


class LinkOut(Schema):
    id: int
    page_number: int | None
    source: str
    mention: str
    score: float
    state: str
    person_id_number: str | None
    person_name: str | None


class RecordOut(Schema):
    id: int
    unit_code: str
    kind: str
    title: str
    original_ref: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    ocr_state: str
    ocr_attempts: int
    pages: list[PageOut]
    links: list[LinkOut]


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["confirm", "reject"]


def _hit(hit: selectors.SearchHit) -> dict[str, Any]:
    return {"kind": hit.kind, "key": hit.key, "title": hit.title, "when": hit.when, "unit_code": hit.unit_code,
            "snippet": hit.snippet, "page": hit.page}


@router.get("/search", response={200: RecordSearchOut}, summary="Tìm tin báo, hồ sơ vụ việc và hồ sơ số hoá")
@operation_requires(Permission.RECORDS_READ)
def search(request: HttpRequest, filters: Query[SearchIn]) -> Any:
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        from popid.core.errors import ValidationFailed

        raise ValidationFailed([{"field": "date_to", "reason": "invalid", "message": "date_to < date_from"}])
    results = selectors.search(actor=request.actor, channel="api",  # type: ignore[attr-defined]
                               query=selectors.SearchQuery(**filters.dict()))
    return {"pages": [_hit(h) for h in results.pages], "reports": [_hit(h) for h in results.reports],
            "cases": [_hit(h) for h in results.cases],
            "person_id_number": results.person.id_number if results.person else None,
            "page": results.page, "page_size": selectors.PAGE_SIZE,
            **{f"more_{kind}": results.more.get(kind, False) for kind in selectors.KINDS}}


@router.get("/progress", response={200: list[ProgressOut]}, summary="Tiến độ số hoá theo đơn vị (Kế hoạch 377)")
@operation_requires(Permission.RECORDS_READ)
def progress(request: HttpRequest) -> Any:
    return [vars(row) for row in selectors.progress(actor=request.actor)]  # type: ignore[attr-defined]


def _record_out(request: HttpRequest, record_id: int) -> dict[str, Any]:
    actor = request.actor  # type: ignore[attr-defined]
    record = selectors.record_for_officer(actor=actor, pk=record_id)
    links = selectors.access_record_links(actor=actor, record=record, channel="api")
    return {
        "id": record.pk, "unit_code": record.unit_code, "kind": record.kind, "title": record.title,
        "original_ref": record.original_ref, "content_type": record.content_type, "size": record.size,
        "sha256": record.sha256, "uploaded_at": record.uploaded_at, "ocr_state": record.ocr_state,
        "ocr_attempts": record.ocr_attempts,
        "pages": [{"number": p.number, "text": p.text} for p in record.pages.all()],
        "links": [{"id": link.pk, "page_number": link.page_number, "source": link.source, "mention": link.mention,
                   "score": link.score, "state": link.state,
                   "person_id_number": link.person.id_number if link.state != LinkState.REJECTED else None,
                   "person_name": link.person.full_name if link.state != LinkState.REJECTED else None}
                  for link in links]}


@router.get("/{record_id}", response={200: RecordOut}, summary="Một hồ sơ số hoá: văn bản và liên kết công dân")
@operation_requires(Permission.RECORDS_READ)
def record(request: HttpRequest, record_id: int) -> Any:
    return _record_out(request, record_id)


@router.post("/{record_id}/links/{link_id}/decision", response={200: RecordOut},
             summary="Xác nhận hoặc bác bỏ một đề xuất liên kết công dân")
@operation_requires(Permission.RECORDS_WRITE)
def decide(request: HttpRequest, record_id: int, link_id: int, payload: DecisionIn) -> Any:
    services.decide_link(actor=request.actor, record_pk=record_id, link_pk=link_id,  # type: ignore[attr-defined]
                         decision=payload.decision)
    return _record_out(request, record_id)
