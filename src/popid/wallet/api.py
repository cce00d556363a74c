"""API routes of popid.wallet: the verifier's API, open to any verifier (no staff token): open a
session (nonce + audience), verify a presentation against it. A refused presentation is problem
JSON 422 ``presentation_refused`` with the precise ``reason``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from popid.core.net import client_ip
from popid.core.permissions import Permission, operation_requires
from popid.wallet import sdjwt, verifier
from popid.wallet.errors import PresentationRefused
from popid.wallet.issuers import issuer_base
from popid.wallet.reasons import reason_text
from popid.wallet.verify import Result

router = Router(tags=["wallet"])


class SessionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    label: str = Field("", max_length=100)


class SessionOut(Schema):
    session_id: str
    nonce: str
    audience: str
    expires_at: str


class VerifyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    session_id: str = Field(..., max_length=16)
    payload: str = Field(..., max_length=sdjwt.MAX_PRESENTATION_BYTES * 2)


class VerifyOut(Schema):
    accepted: bool
    issuer: str
    issuer_name: str
    vct: str
    credential_type: str
    status: str
    disclosed: dict[str, Any]
    presented_at: int | None
    expires_at: int | None


@router.post("/verifier/sessions", response={201: SessionOut}, auth=None)
@operation_requires(Permission.PUBLIC)
def post_session(request: HttpRequest, body: SessionIn) -> tuple[int, SessionOut]:
    verifier.throttle_sessions(client_ip=client_ip(request))
    session = verifier.create_session(base=issuer_base(request), label=body.label)
    return 201, SessionOut(session_id=session.public_id, nonce=session.nonce, audience=session.audience,
                           expires_at=session.expires_at.isoformat())


def _out(result: Result) -> VerifyOut:
    return VerifyOut(accepted=result.accepted, issuer=result.issuer, issuer_name=result.issuer_name, vct=result.vct,
                     credential_type=result.config_id, status=result.status, disclosed=result.disclosed,
                     presented_at=result.presented_at, expires_at=result.expires_at)


@router.post("/verifier/verify", response=VerifyOut, auth=None)
@operation_requires(Permission.PUBLIC)
def post_verify(request: HttpRequest, body: VerifyIn) -> VerifyOut:
    result = verifier.verify_payload_in_session(public_id=body.session_id, payload=body.payload,
                                              base=issuer_base(request))
    if not result.accepted:
        raise PresentationRefused(result.reason, reason_text(result.reason, result.detail))
    return _out(result)
