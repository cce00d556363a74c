"""Public API of the access ledger (no login: it publishes only hashes, sizes and signatures).

Everything a citizen, an auditor or a monitor needs to check the log independently: the latest
and any earlier signed checkpoint, inclusion proofs (audit paths) and consistency proofs per
RFC 9162, and the Ed25519 public keys. Hashes are standard base64."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.params.functions import Query

from popid.core.permissions import Permission, operation_requires
from popid.ledger import services
from popid.ledger.models import Checkpoint

router = Router(tags=["ledger"])
PROBLEM = {400: dict, 404: dict, 422: dict}


class CheckpointOut(Schema):
    size: int
    root_hash: str
    map_root: str | None
    timestamp: datetime
    kid: str
    note: str


class InclusionOut(Schema):
    index: int
    size: int
    leaf_hash: str
    audit_path: list[str]


class ConsistencyOut(Schema):
    first: int
    second: int
    consistency_path: list[str]


def b64(value: bytes | memoryview) -> str:
    return base64.b64encode(bytes(value)).decode()


def checkpoint_out(checkpoint: Checkpoint) -> dict[str, Any]:
    return {"size": checkpoint.size, "root_hash": b64(checkpoint.root_hash),
            "map_root": None if checkpoint.map_root is None else b64(checkpoint.map_root),
            "timestamp": checkpoint.timestamp, "kid": checkpoint.kid, "note": checkpoint.note}


@router.get("/checkpoints/latest", auth=None, response={200: CheckpointOut, **PROBLEM},
            summary="Điểm kiểm tra mới nhất (đã ký Ed25519)")
@operation_requires(Permission.PUBLIC)
def latest_checkpoint(request: HttpRequest) -> dict[str, Any]:
    services.integrate_lazily()  # lazily: pending access records first, a fresh checkpoint if due
    return checkpoint_out(services.require_latest_checkpoint())


@router.get("/checkpoints/{size}", auth=None, response={200: CheckpointOut, **PROBLEM},
            summary="Điểm kiểm tra theo kích thước cây")
@operation_requires(Permission.PUBLIC)
def checkpoint_by_size(request: HttpRequest, size: int) -> dict[str, Any]:
    return checkpoint_out(services.checkpoint_by_size(size))


@router.get("/proofs/inclusion", auth=None, response={200: InclusionOut, **PROBLEM},
            summary="Bằng chứng chứa (audit path, RFC 9162 §2.1.3)")
@operation_requires(Permission.PUBLIC)
def inclusion(request: HttpRequest, index: int = Query(..., ge=0, description="Chỉ số lá, nhỏ hơn size"),
              size: int = Query(..., ge=0, description="Kích thước cây; lớn hơn sổ cái hiện tại: 404"),
              ) -> dict[str, Any]:
    services.integrate_lazily(checkpoint=False)
    path = services.inclusion_proof(index, size)
    return {"index": index, "size": size, "leaf_hash": b64(services.leaf_hash_at(index)),
            "audit_path": [b64(h) for h in path]}


@router.get("/proofs/consistency", auth=None, response={200: ConsistencyOut, **PROBLEM}, url_name="ledger_consistency",
            summary="Bằng chứng nhất quán giữa hai kích thước (RFC 9162 §2.1.4)")
@operation_requires(Permission.PUBLIC)
def consistency(request: HttpRequest, first: int = Query(..., ge=0, description="Không lớn hơn second"),
                second: int = Query(..., ge=0, description="Kích thước cây; lớn hơn sổ cái hiện tại: 404"),
                ) -> dict[str, Any]:
    services.integrate_lazily(checkpoint=False)
    path = services.consistency_proof(first, second)
    return {"first": first, "second": second, "consistency_path": [b64(h) for h in path]}


@router.get("/keys", auth=None, response={200: dict}, summary="Khoá công khai Ed25519 của sổ cái (JWKS)")
@operation_requires(Permission.PUBLIC)
def public_keys(request: HttpRequest) -> dict[str, list[dict[str, Any]]]:
    return services.public_jwks()
