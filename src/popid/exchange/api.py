"""Agency API (``/api/v1/exchange``): eKYC, batch verification, person data, life status,
consent requests and event subscriptions. Authenticated by a client_credentials access token
(private_key_jwt at ``/oidc/token``); every error is RFC 9457 problem JSON, 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from popid.core import keys
from popid.core.permissions import Permission, operation_requires
from popid.core.problems import domain_error_response
from popid.exchange import fields as catalogue
from popid.exchange import services, webhooks
from popid.exchange.errors import Throttled
from popid.exchange.models import Service, Subscription
from popid.exchange.schemas import (
    BatchIn,
    BatchOut,
    ConsentOut,
    ConsentRequestIn,
    EkycVerifyIn,
    EkycVerifyOut,
    FieldOut,
    LifeStatusIn,
    LifeStatusOut,
    PersonDataOut,
    PersonQueryIn,
    SubscriptionIn,
    SubscriptionOut,
)
from popid.exchange.tokens import AGENCY_AUTH, require_scope

router = Router(tags=["exchange"], auth=AGENCY_AUTH)
PROBLEMS = {400: dict, 401: dict, 403: dict, 404: dict, 413: dict, 422: dict, 429: dict}
EXCHANGE_KEYSET = "exchange"


def throttled(view: Callable[..., Any]) -> Callable[..., Any]:
    """A 429 carries ``Retry-After`` (the shared handler has no headers for domain errors)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(request, *args, **kwargs)
        except Throttled as exc:
            response = domain_error_response(request, exc)
            response["Retry-After"] = str(exc.retry_after)
            return response

    return wrapper


@router.post("/ekyc/verify", response={200: EkycVerifyOut, **PROBLEMS}, summary="eKYC: xác thực thông tin một người")
@throttled
@operation_requires(Permission.AGENCY_EXCHANGE)
def verify(request: HttpRequest, payload: EkycVerifyIn) -> Any:
    subsystem = require_scope(request, Service.EKYC)
    result = services.verify_identity(subsystem=subsystem, rc=payload.context.to_rc(), id_number=payload.id_number,
                                      attributes=payload.all_attributes())
    return result.as_dict()


@router.post("/ekyc/batch", response={200: BatchOut, **PROBLEMS}, summary="Xác thực theo lô (tối đa 1.000 người)")
@throttled
@operation_requires(Permission.AGENCY_EXCHANGE)
def verify_batch(request: HttpRequest, payload: BatchIn) -> Any:
    subsystem = require_scope(request, Service.BATCH_VERIFY)
    items = [{"ref": i.ref, "id_number": i.id_number, "attributes": i.attributes.model_dump(exclude_none=True)}
             for i in payload.items]
    results = services.verify_batch(subsystem=subsystem, rc=payload.context.to_rc(), items=items)
    return {"results": [r.as_dict() for r in results]}


@router.post("/persons/query", response={200: PersonDataOut, **PROBLEMS},
             summary="Thông tin công dân trong phạm vi được cấp")
@throttled
@operation_requires(Permission.AGENCY_EXCHANGE)
def person_data(request: HttpRequest, payload: PersonQueryIn) -> Any:
    subsystem = require_scope(request, Service.PERSON_DATA)
    return services.person_data(subsystem=subsystem, rc=payload.context.to_rc(), id_number=payload.id_number,
                                fields=payload.fields)


@router.post("/life-status", response={200: LifeStatusOut, **PROBLEMS}, summary="Tình trạng còn sống / đã chết")
@throttled
@operation_requires(Permission.AGENCY_EXCHANGE)
def life_status(request: HttpRequest, payload: LifeStatusIn) -> Any:
    subsystem = require_scope(request, Service.LIFE_STATUS)
    return {"results": services.life_status(subsystem=subsystem, rc=payload.context.to_rc(),
                                            id_numbers=payload.id_numbers)}


@router.post("/consents", response={201: ConsentOut, **PROBLEMS}, summary="Xin sự đồng ý của công dân")
@throttled
@operation_requires(Permission.AGENCY_EXCHANGE)
def request_consent(request: HttpRequest, payload: ConsentRequestIn) -> Any:
    consent = services.request_consent(subsystem=request.subsystem, rc=payload.context.to_rc(),  # type: ignore[attr-defined]
                                       id_number=payload.id_number, fields=payload.fields,
                                       valid_until=payload.valid_until)
    return 201, consent


@router.get("/consents/{reference}", response={200: ConsentOut, **PROBLEMS}, summary="Trạng thái yêu cầu đồng ý")
@operation_requires(Permission.AGENCY_EXCHANGE)
def consent_status(request: HttpRequest, reference: str) -> Any:
    return services.consent_status(subsystem=request.subsystem, reference=reference)  # type: ignore[attr-defined]


@router.post("/subscriptions", response={201: SubscriptionOut, **PROBLEMS},
             summary="Đăng ký nhận sự kiện (webhook ký JWS)")
@operation_requires(Permission.AGENCY_EXCHANGE)
def subscribe(request: HttpRequest, payload: SubscriptionIn) -> Any:
    subsystem = require_scope(request, Service.EVENTS)
    return 201, webhooks.subscribe(subsystem=subsystem, rc=payload.context.to_rc(), url=payload.url,
                                   event_types=payload.event_types)


@router.get("/subscriptions", response=list[SubscriptionOut], summary="Các đăng ký nhận sự kiện")
@operation_requires(Permission.AGENCY_EXCHANGE)
def subscriptions(request: HttpRequest) -> Any:
    return Subscription.objects.filter(subsystem=request.subsystem, is_active=True).order_by("id")  # type: ignore[attr-defined]


@router.delete("/subscriptions/{subscription_id}", response={204: None, **PROBLEMS}, summary="Hủy đăng ký")
@operation_requires(Permission.AGENCY_EXCHANGE)
def unsubscribe(request: HttpRequest, subscription_id: int) -> Any:
    webhooks.unsubscribe(subsystem=request.subsystem, subscription_id=subscription_id)  # type: ignore[attr-defined]
    return 204, None


@router.get("/fields", response=list[FieldOut], summary="Danh mục trường dữ liệu")
@operation_requires(Permission.AGENCY_EXCHANGE)
def field_catalogue(request: HttpRequest) -> Any:
    return [{"name": f.name, "label": str(f.label), "sensitive": f.sensitive, "verifiable": f.verifiable}
            for f in catalogue.FIELDS.values()]


JWKS_OPENAPI = {"responses": {"200": {"description": "JWK Set (RFC 7517)", "content": {"application/json": {
    "schema": {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {
        "type": "object", "required": ["kty"], "additionalProperties": True}}}}}}}}}


@router.get("/jwks", auth=None, openapi_extra=JWKS_OPENAPI, summary="Khóa công khai ký webhook (JWKS)")
@operation_requires(Permission.PUBLIC)
def jwks(request: HttpRequest) -> HttpResponse:
    return JsonResponse(keys.public_jwks(EXCHANGE_KEYSET, algs=("ES256",)),
                        headers={"Cache-Control": "public, max-age=300"})
