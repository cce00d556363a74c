"""API for the paid online flow: save a submission (multipart, with Idempotency-Key), start its
payment, read its state (reconciled on read), the gateway callback, and the inbox. Mounted into
``services.api.router``; errors are problem JSON like the rest of the API."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from ninja.params import functions as param

from popid.core.errors import ValidationFailed
from popid.core.permissions import Permission, operation_requires
from popid.identity.auth import acting_for
from popid.services import submissions
from popid.services.citizen_auth import CITIZEN_AUTH, CitizenSession
from popid.services.errors import NoticeMalformed
from popid.services.models import Notification, Payment, Submission
from popid.services.payments.sandbox import NOTICE_OPENAPI, SIGNATURE_HEADER
from popid.services.procedures import get_procedure
from popid.services.uploads import incoming_files

PROBLEM = {400: dict, 401: dict, 403: dict, 404: dict, 409: dict, 413: dict, 422: dict}
router = Router(tags=["services"])


def submission_out(submission: Submission) -> dict[str, Any]:
    payments = [{"order_id": p.order_id, "amount": p.amount, "currency": p.currency, "state": p.state,
                 "gateway": p.gateway, "gateway_reference": p.gateway_reference,
                 "paid_at": p.paid_at.isoformat() if p.paid_at else None}
                for p in submission.payments.order_by("created_at")]
    return {"id": submission.public_id, "procedure": submission.procedure_code, "state": submission.state,
            "fee": submission.fee, "data": submission.data, "payments": payments,
            "dossier": dossier.code if (dossier := submission.dossier) is not None else None,
            "attachments": [{"kind": a.kind, "name": a.original_name, "size": a.size}
                            for a in submission.attachments.all()],
            "error": submission.last_error}


def callback_url(request: HttpRequest) -> str:
    from django.conf import settings

    configured = getattr(settings, "POPID_PAYMENT_CALLBACK_URL", "")
    return configured or request.build_absolute_uri(reverse("api:services_payment_callback"))


def _citizen_auth() -> list[CitizenSession]:
    return CITIZEN_AUTH


@router.post("/submissions", auth=_citizen_auth(), response={200: dict, 201: dict, **PROBLEM},
             summary="Lưu hồ sơ trước khi thanh toán (multipart: procedure, data JSON, tệp theo loại giấy tờ)")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def create_submission(request: HttpRequest,
                      idempotency_key: str = param.Header("", alias="Idempotency-Key", max_length=100),
                      ) -> tuple[int, dict[str, Any]]:
    procedure = get_procedure(request.POST.get("procedure", "")[:64])
    try:
        data = json.loads(request.POST.get("data") or "{}")
    except ValueError:
        raise ValidationFailed([{"field": "data", "reason": "json",
                                 "message": _("Dữ liệu hồ sơ phải là JSON hợp lệ")}]) from None
    uploads = [(kind, f) for kind in request.FILES for f in request.FILES.getlist(kind)]
    submission, created = submissions.prepare_submission(
        account=request.auth, procedure_code=procedure.code, data=data, idempotency_key=idempotency_key,  # type: ignore[attr-defined]
        on_behalf_of=acting_for(request), attachments=incoming_files(procedure, uploads))
    return (201 if created else 200), submission_out(submission)


@router.get("/submissions/{public_id}", auth=_citizen_auth(), response={200: dict, **PROBLEM},
            summary="Trạng thái hồ sơ chờ nộp (đối soát với cổng thanh toán khi đọc)")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def read_submission(request: HttpRequest, public_id: str) -> dict[str, Any]:
    submission = submissions.own_submission(request.auth, public_id)  # type: ignore[attr-defined]
    return submission_out(submissions.reconcile_submission(submission))


@router.post("/submissions/{public_id}/payment", auth=_citizen_auth(), response={200: dict, **PROBLEM},
             summary="Bắt đầu thanh toán lệ phí: trả về trang thanh toán của cổng")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def start_payment(request: HttpRequest, public_id: str) -> dict[str, Any]:
    return_url = request.build_absolute_uri(reverse("dvc:payment_return", args=["ORDER_ID"]))
    payment, url = submissions.start_payment(account=request.auth, public_id=public_id,  # type: ignore[attr-defined]
                                             return_url=return_url, callback_url=callback_url(request))
    return {"order_id": payment.order_id, "amount": payment.amount, "currency": payment.currency,
            "redirect_url": request.build_absolute_uri(url)}


@router.post("/payments/callback", auth=None, response={200: dict, **PROBLEM}, url_name="services_payment_callback",
             openapi_extra=NOTICE_OPENAPI,
             summary="Thông báo kết quả thanh toán từ cổng (chữ ký HMAC-SHA256, timestamp, nonce)")
@operation_requires(Permission.PUBLIC)
def payment_callback(request: HttpRequest) -> dict[str, Any]:
    if request.content_type != "application/json":  # the signature covers the raw JSON bytes
        raise NoticeMalformed(_("Thông báo thanh toán phải là JSON (application/json)"))
    payment = submissions.process_notice(request.body, request.headers.get(SIGNATURE_HEADER, ""))
    payment = Payment.objects.select_related("submission__dossier").get(pk=payment.pk)
    dossier = payment.submission.dossier if payment.submission else None
    return {"order_id": payment.order_id, "state": payment.state, "dossier": dossier.code if dossier else None}


@router.get("/notifications", auth=_citizen_auth(), response={200: list[dict[str, Any]], **PROBLEM},
            summary="Hộp thư thông báo")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def notifications(request: HttpRequest, unread: bool = False) -> list[dict[str, Any]]:
    qs = Notification.objects.filter(account=request.auth).select_related("dossier")  # type: ignore[attr-defined]
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return [{"id": n.pk, "dossier": n.dossier.code, "from": n.from_state, "to": n.to_state, "note": n.note,
             "at": n.created_at.isoformat(), "read": n.read_at is not None} for n in qs[:200]]


@router.post("/notifications/read", auth=_citizen_auth(), response={200: dict, **PROBLEM},
             summary="Đánh dấu mọi thông báo là đã đọc")
@operation_requires(Permission.CITIZEN_SELF_SERVICE)
def notifications_read(request: HttpRequest) -> dict[str, int]:
    count = Notification.objects.filter(account=request.auth, read_at__isnull=True).update(  # type: ignore[attr-defined]
        read_at=timezone.now())
    return {"marked": count}
