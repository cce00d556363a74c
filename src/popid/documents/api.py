"""API routes of popid.documents (staff token or console session): read a driving licence and
change its status; the same services and selectors as the console."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from popid.core.access import Actor, context_from_request
from popid.core.permissions import Permission, operation_requires
from popid.core.schema_types import NonBlank
from popid.documents import selectors, services
from popid.documents.models import LICENCE_POINTS, DrivingLicence

router = Router(tags=["documents"])


class LicenceOut(Schema):
    number: str
    holder_id_number: str
    holder_name: str
    classes: list[dict[str, str]]
    issued_on: str
    valid_until: str | None
    points: int
    status: str
    status_reason: str
    version: int


class StatusIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: NonBlank(500)  # type: ignore[valid-type]
    legal_ref: NonBlank(200) = services.LEGAL_REF_SUSPENSION  # type: ignore[valid-type]
    expected_version: int | None = None


class DeductIn(Schema):
    model_config = ConfigDict(extra="forbid")
    points: int = Field(ge=1, le=LICENCE_POINTS)
    reason: NonBlank(500)  # type: ignore[valid-type]
    legal_ref: NonBlank(200) = services.LEGAL_REF_SUSPENSION  # type: ignore[valid-type]
    expected_version: int | None = None


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]  # set by the API's staff authentication
    return actor


def _out(licence: DrivingLicence) -> LicenceOut:
    return LicenceOut(number=licence.number, holder_id_number=licence.person.id_number,
                      holder_name=licence.person.full_name, classes=licence.classes,
                      issued_on=licence.issued_on.isoformat(),
                      valid_until=licence.valid_until.isoformat() if licence.valid_until else None,
                      points=licence.current_points, status=licence.status, status_reason=licence.status_reason,
                      version=licence.version)


@router.get("/licences/{number}", response=LicenceOut)
@operation_requires(Permission.DOCUMENT_READ)
def get_licence(request: HttpRequest, number: str) -> LicenceOut:
    ctx = context_from_request(request, default_purpose="Tra cứu giấy phép lái xe")
    return _out(selectors.access_licence(ctx=ctx, number=number))


@router.post("/licences/{number}/suspend", response=LicenceOut)
@operation_requires(Permission.DOCUMENT_WRITE)
def post_suspend(request: HttpRequest, number: str, body: StatusIn) -> LicenceOut:
    return _out(services.suspend_licence(actor=_actor(request), number=number, **body.dict()))


@router.post("/licences/{number}/reinstate", response=LicenceOut)
@operation_requires(Permission.DOCUMENT_WRITE)
def post_reinstate(request: HttpRequest, number: str, body: StatusIn) -> LicenceOut:
    return _out(services.reinstate_licence(actor=_actor(request), number=number, **body.dict()))


@router.post("/licences/{number}/revoke", response=LicenceOut)
@operation_requires(Permission.DOCUMENT_WRITE)
def post_revoke(request: HttpRequest, number: str, body: StatusIn) -> LicenceOut:
    return _out(services.revoke_licence(actor=_actor(request), number=number, **body.dict()))


@router.post("/licences/{number}/deduct-points", response=LicenceOut)
@operation_requires(Permission.DOCUMENT_WRITE)
def post_deduct(request: HttpRequest, number: str, body: DeductIn) -> LicenceOut:
    return _out(services.deduct_points(actor=_actor(request), number=number, **body.dict()))
