"""Officer API for the population registry: thin handlers that parse, build the access
context, call one selector or service and serialise."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.params import functions as param
from pydantic import ConfigDict, Field

from popid.core import admin_units
from popid.core.access import AccessContext, Actor, context_from_request
from popid.core.permissions import Permission, operation_requires
from popid.core.schema_types import ID_NUMBER_LOOKUP, CommuneCode
from popid.registry import selectors, services
from popid.registry.models import Household, HouseholdMember, Person, Residence
from popid.registry.schemas import (
    BirthIn,
    CorrectionIn,
    CurrentResidenceIn,
    DeathIn,
    HistoryPage,
    HouseholdOut,
    MarriageIn,
    PermanentResidenceIn,
    PersonDetailOut,
    PersonOut,
    ReissueIn,
    ResidenceOut,
    SearchOut,
    SplitHouseholdIn,
    TemporaryResidenceIn,
)

router = Router(tags=["registry"])
DEFAULT_PURPOSE = "Tra cứu nghiệp vụ"
PROBLEM = {400: dict, 401: dict, 403: dict, 404: dict, 409: dict, 422: dict}  # problem+json: core.openapi
IdNumberPath = param.Path(..., pattern=ID_NUMBER_LOOKUP, description="Số định danh (12 chữ số; số đã hủy vẫn tra được)")


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _ctx(request: HttpRequest) -> AccessContext:
    return context_from_request(request, default_purpose=DEFAULT_PURPOSE)


def household_out(household: Household, members: list[HouseholdMember]) -> dict[str, Any]:
    return {
        "code": household.code, "address": household.address, "commune_code": household.commune_code,
        "commune_name": admin_units.commune_label(household.commune_code),
        "head_id_number": household.head.id_number if household.head else None,
        "created_on": household.created_on, "version": household.version, "members": members,
    }


def detail_out(detail: selectors.PersonDetail) -> dict[str, Any]:
    return {
        "person": detail.person,
        "residences": detail.residences,
        "relations": detail.relations,
        "household": household_out(detail.household, detail.household_members) if detail.household else None,
        "cancelled_id_numbers": [c.id_number for c in detail.cancelled_numbers],
    }


class SearchQuery(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=150, description="Họ tên, có hoặc không dấu")
    birth_year: int | None = Field(default=None, ge=1850, le=2400)
    birth_date: date | None = None
    commune_code: CommuneCode | None = None
    page: int = Field(default=1, ge=1, le=1000)
    page_size: int = Field(default=20, ge=1, le=100)


@router.get("/persons", response={200: SearchOut, **PROBLEM}, summary="Tìm kiếm công dân theo họ tên")
@operation_requires(Permission.REGISTRY_READ)
def search_persons(request: HttpRequest, q: Query[SearchQuery]) -> dict[str, Any]:
    items, total = selectors.search_persons(
        ctx=_ctx(request), name=q.name, birth_year=q.birth_year, birth_date=q.birth_date,
        commune_code=q.commune_code, limit=q.page_size, offset=(q.page - 1) * q.page_size,
    )
    return {"total": total, "page": q.page, "page_size": q.page_size, "items": items}


@router.get("/persons/{id_number}", response={200: PersonDetailOut, **PROBLEM}, summary="Tra cứu theo số định danh")
@operation_requires(Permission.REGISTRY_READ)
def get_person(request: HttpRequest, id_number: str = IdNumberPath) -> dict[str, Any]:
    return detail_out(selectors.person_detail(ctx=_ctx(request), id_number=id_number))


@router.get("/persons/{id_number}/history", response={200: HistoryPage, **PROBLEM}, summary="Lịch sử thay đổi")
@operation_requires(Permission.REGISTRY_READ)
def get_history(request: HttpRequest, id_number: str = IdNumberPath, page: int = param.Query(1, ge=1, le=10_000),
                page_size: int = param.Query(50, ge=1, le=200)) -> dict[str, Any]:
    page, page_size = max(1, min(page, 10_000)), max(1, min(page_size, 200))
    qs = selectors.person_history(ctx=_ctx(request), id_number=id_number)
    return {"total": qs.count(), "page": page, "page_size": page_size,
            "items": list(qs[(page - 1) * page_size:page * page_size])}


@router.get("/households/{code}", response={200: HouseholdOut, **PROBLEM}, summary="Thông tin hộ gia đình")
@operation_requires(Permission.REGISTRY_READ)
def get_household(request: HttpRequest, code: str) -> dict[str, Any]:
    household, members = selectors.access_household(ctx=_ctx(request), code=code)
    return household_out(household, members)



@router.post("/births", response={201: PersonOut, **PROBLEM}, summary="Đăng ký khai sinh, cấp số định danh")
@operation_requires(Permission.REGISTRY_WRITE)
def post_birth(request: HttpRequest, body: BirthIn) -> tuple[int, Person]:
    return 201, services.register_birth(actor=_actor(request), **body.model_dump())


@router.post("/persons/{id_number}/death", response={200: PersonOut, **PROBLEM}, summary="Khai tử")
@operation_requires(Permission.REGISTRY_WRITE)
def post_death(request: HttpRequest, id_number: str, body: DeathIn) -> Person:
    data = body.model_dump()
    return services.record_death(actor=_actor(request), id_number=id_number, expected_version=data.pop("version"),
                                 **data)


@router.post("/persons/{id_number}/permanent-residence", response={201: ResidenceOut, **PROBLEM},
             summary="Đăng ký thường trú")
@operation_requires(Permission.REGISTRY_WRITE)
def post_permanent_residence(request: HttpRequest, id_number: str, body: PermanentResidenceIn) -> tuple[int, Residence]:
    data = body.model_dump()
    return 201, services.register_permanent_residence(
        actor=_actor(request), id_number=id_number, expected_version=data.pop("version"), **data)


@router.post("/persons/{id_number}/temporary-residence", response={201: ResidenceOut, **PROBLEM},
             summary="Đăng ký tạm trú")
@operation_requires(Permission.REGISTRY_WRITE)
def post_temporary_residence(request: HttpRequest, id_number: str, body: TemporaryResidenceIn) -> tuple[int, Residence]:
    data = body.model_dump()
    return 201, services.register_temporary_residence(
        actor=_actor(request), id_number=id_number, expected_version=data.pop("version"), **data)


@router.post("/persons/{id_number}/current-residence", response={201: ResidenceOut, **PROBLEM},
             summary="Cập nhật nơi ở hiện tại")
@operation_requires(Permission.REGISTRY_WRITE)
def post_current_residence(request: HttpRequest, id_number: str, body: CurrentResidenceIn) -> tuple[int, Residence]:
    data = body.model_dump()
    return 201, services.change_current_residence(
        actor=_actor(request), id_number=id_number, expected_version=data.pop("version"), **data)


@router.post("/households/{code}/split", response={201: HouseholdOut, **PROBLEM}, summary="Tách hộ")
@operation_requires(Permission.REGISTRY_WRITE)
def post_split(request: HttpRequest, code: str, body: SplitHouseholdIn) -> tuple[int, dict[str, Any]]:
    new = services.split_household(actor=_actor(request), household_code=code, **body.model_dump())
    members = list(new.members.filter(left_on__isnull=True).select_related("person"))
    return 201, household_out(new, members)


@router.post("/persons/{id_number}/marriage", response={200: list[PersonOut], **PROBLEM}, summary="Đăng ký kết hôn")
@operation_requires(Permission.REGISTRY_WRITE)
def post_marriage(request: HttpRequest, id_number: str, body: MarriageIn) -> list[Person]:
    return list(services.record_marriage(actor=_actor(request), id_number=id_number, **body.model_dump()))


@router.post("/persons/{id_number}/corrections", response={200: PersonOut, **PROBLEM},
             summary="Điều chỉnh thông tin (khóa lạc quan theo version)")
@operation_requires(Permission.REGISTRY_WRITE)
def post_correction(request: HttpRequest, id_number: str, body: CorrectionIn) -> Person:
    changes = body.changes.model_dump(exclude_unset=True)
    return services.correct_person(actor=_actor(request), id_number=id_number, changes=changes,
                                   reason=body.reason, legal_ref=body.legal_ref, expected_version=body.version)


@router.post("/persons/{id_number}/id-number-reissue", response={200: PersonOut, **PROBLEM},
             summary="Hủy và cấp lại số định danh")
@operation_requires(Permission.REGISTRY_WRITE)
def post_reissue(request: HttpRequest, id_number: str, body: ReissueIn) -> Person:
    data = body.model_dump()
    return services.reissue_id_number(actor=_actor(request), id_number=id_number,
                                      expected_version=data.pop("version"), **data)
