"""The verifier's pages (/giay-to/xac-minh/): open to any verifier (a bank counter, a hotel, a
roadside check). A session gives the nonce the wallet must bind; the pasted (or scanned)
presentation is verified and exactly the disclosed claims are shown. The chip-card QR page parses
the card's QR for anyone and checks it against the registry only for a logged-in officer."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from popid.core import formatting
from popid.core.access import AccessContext, Actor
from popid.core.errors import DomainError, PermissionDenied
from popid.core.net import client_ip
from popid.wallet import sdjwt
from popid.wallet import verifier as verifier_service
from popid.wallet.chipcheck import check_against_registry
from popid.wallet.chipqr import parse_chip_qr
from popid.wallet.issuers import CLAIM_LABELS, CREDENTIAL_TYPES, issuer_base
from popid.wallet.reasons import REASONS
from popid.wallet.verify import Result
from popid.web.shell import apply_domain_error

PURPOSE_CHIP = "Đối chiếu mã QR trên thẻ căn cước với Cơ sở dữ liệu quốc gia về dân cư"



class PayloadForm(forms.Form):
    payload = forms.CharField(label=_("Nội dung mã QR giấy tờ số"), widget=forms.Textarea(attrs={"rows": 5}),
                              max_length=sdjwt.MAX_PRESENTATION_BYTES * 2)


class ChipForm(forms.Form):
    qr = forms.CharField(label=_("Nội dung mã QR mặt trước thẻ căn cước"), max_length=2000,
                         widget=forms.Textarea(attrs={"rows": 3}))


def _qr(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=6)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def _shown(value: object) -> object:
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(str(_shown(v)) for v in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return formatting.date_vn(value)  # people read dd/mm/yyyy (issue #19 item 4)
    return value


def _rows(claims: dict[str, Any], path: str = "") -> list[dict[str, Any]]:
    """One row per claim; a nested object (an external issuer's address…) as dotted names."""
    rows = []
    for name, value in claims.items():
        full = f"{path}.{name}" if path else name
        if isinstance(value, dict) and value:
            rows += _rows(value, full)
        else:
            rows.append({"name": full, "label": CLAIM_LABELS.get(full, full), "value": _shown(value)})
    return rows


def describe(result: Result) -> dict[str, Any]:
    """The result as the page shows it: reason text, and each disclosed claim with its label."""
    ctype = CREDENTIAL_TYPES.get(result.config_id)
    return {"result": result, "reason_text": REASONS.get(result.reason, result.reason),
            "claims": _rows(result.disclosed), "type_name": ctype.name if ctype else result.vct}


@never_cache
@require_http_methods(["GET", "POST"])
def verifier(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            verifier_service.throttle_sessions(client_ip=client_ip(request))
        except DomainError as exc:
            return render(request, "wallet/verifier_start.html", {"error": exc}, status=exc.status)
        session = verifier_service.create_session(base=issuer_base(request), label=request.POST.get("label", ""))
        return redirect("documents:verifier_session", session_id=session.public_id)
    return render(request, "wallet/verifier_start.html", {})


@never_cache
@require_http_methods(["GET", "POST"])
def verifier_session(request: HttpRequest, session_id: str) -> HttpResponse:
    try:
        session = verifier_service.find_session(session_id)
    except DomainError:
        return render(request, "wallet/verifier_start.html", {"missing": True}, status=404)
    form = PayloadForm(request.POST or None)
    context: dict[str, Any] = {"session": session, "form": form,
                               "wallet_qr": _qr(f"{issuer_base(request)}/vi-giay-to/?phien={session.public_id}")}
    status = 200
    if request.method == "POST" and form.is_valid():
        result = verifier_service.verify_payload_in_session(public_id=session.public_id,
                                                            payload=form.cleaned_data["payload"],
                                                            base=issuer_base(request))
        context.update(describe(result))
        status = 200 if result.accepted else 422
    elif request.method == "POST":
        raw = request.POST.get("payload", "")
        result = Result(accepted=False, reason="oversized" if len(raw) > sdjwt.MAX_PRESENTATION_BYTES
                                 else "malformed")
        context.update(describe(result))
        status = 422
    return render(request, "wallet/verifier_session.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def chip_card(request: HttpRequest) -> HttpResponse:
    form = ChipForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    status = 200
    actor = None
    if request.user.is_authenticated:
        try:
            actor = Actor.for_user(request.user)
        except PermissionDenied:
            actor = None
    context["is_officer"] = actor is not None
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                card = parse_chip_qr(form.cleaned_data["qr"])
                context["card"] = card
                if actor is not None:
                    ctx = AccessContext(actor=actor, purpose=PURPOSE_CHIP, channel="verifier",
                                        legal_basis="Luật Căn cước 2023, Điều 9; Nghị định 69/2024/NĐ-CP")
                    context["check"] = check_against_registry(ctx=ctx, card=card)
                status = 200
            except DomainError as exc:
                apply_domain_error(form, exc)
                status = exc.status
    return render(request, "wallet/chip_card.html", context, status=status)
