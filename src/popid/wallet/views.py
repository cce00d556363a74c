"""The built-in web wallet in the citizen portal (/vi-giay-to/): level-2 accounts in a level-2
session only (passcode or TOTP step-up first). Add a document, choose claims, show a key-bound
presentation for a verifier's session as a QR code valid for 60 seconds."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from popid.core import formatting
from popid.core.access import AccessContext
from popid.core.errors import DomainError
from popid.identity.auth import citizen_actor
from popid.wallet import claims as claim_builders
from popid.wallet import compact, oid4vci, services, verifier
from popid.wallet.errors import DocumentUnavailable
from popid.wallet.issuers import CLAIM_LABELS, CREDENTIAL_TYPES, issuer_base
from popid.wallet.models import CredentialStatus
from popid.wallet.verify import PRESENTATION_MAX_AGE
from popid.web.shell import apply_domain_error, citizen_view, render_citizen_page

wallet_view = citizen_view(level2=True)  # a level-2 account in a level-2 session

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
QR_MAX_BYTES = 2953  # QR version 40, error correction L, byte mode
PENDING_SIGNATURE = "popid_wallet_pending_signature"
PURPOSE_LIST = "Công dân xem danh sách giấy tờ của mình trong ví giấy tờ"


class PresentForm(forms.Form):
    session = forms.CharField(label=gettext_lazy("Mã phiên xác minh (bên xác minh cung cấp)"), max_length=16,
                              required=False)
    nonce = forms.CharField(label=gettext_lazy("Hoặc: nonce của bên xác minh"), max_length=128, required=False)
    audience = forms.CharField(label=gettext_lazy("và định danh bên xác minh (aud)"), max_length=300, required=False)

    def __init__(self, *args: Any, claim_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["claims"] = forms.MultipleChoiceField(
            label=gettext_lazy("Thông tin chia sẻ"), choices=claim_choices, widget=forms.CheckboxSelectMultiple)
        self.order_fields(["claims", "session", "nonce", "audience"])


def _svg_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=4,
                        error_correction=qrcode.constants.ERROR_CORRECT_L)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


@wallet_view
def index(request: HttpRequest) -> HttpResponse:
    account = request.account  # type: ignore[attr-defined]
    from popid.wallet.status import sync_events

    sync_events()
    credentials = services.wallet_credentials(account)
    held = {(c.config_id, c.issued.document_ref) for c in credentials}
    documents = [{"config_id": c, "ref": r, "label": label, "type": CREDENTIAL_TYPES[c].name, "held": (c, r) in held}
                 for c, r, label in claim_builders.available_documents(
                     account.person, AccessContext(actor=citizen_actor(account), purpose=PURPOSE_LIST,
                                                   channel="wallet"))]
    rows = [{"credential": c, "type": CREDENTIAL_TYPES[c.config_id].name,
             "status": CredentialStatus(c.issued.status).label, "status_code": c.issued.status} for c in credentials]
    return render_citizen_page(request, "wallet/index.html", {"rows": rows, "documents": documents})


def _browser_jwk(request: HttpRequest) -> dict[str, Any] | None:
    """The public JWK of the browser's WebCrypto key, when the citizen chose to keep the key on the device."""
    raw = request.POST.get("holder_jwk", "")
    if not raw:
        return None
    try:
        value = json.loads(raw[:2000])
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise DocumentUnavailable(_("Khóa của thiết bị không hợp lệ"), field="holder_jwk")
    return value


@wallet_view
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    try:
        credential = services.add_to_wallet(account=request.account,  # type: ignore[attr-defined]
                                             config_id=request.POST.get("config_id", ""),
                                             document_ref=request.POST.get("document_ref", ""),
                                             base=issuer_base(request), browser_jwk=_browser_jwk(request))
    except DomainError as exc:
        messages.error(request, f"{exc.title}: {exc.detail}" if exc.detail else str(exc.title))
        return redirect("wallet:index")
    messages.success(request, _("Đã thêm %(name)s vào ví") % {"name": CREDENTIAL_TYPES[credential.config_id].name})
    return redirect("wallet:credential", pk=credential.pk)


def _shown_text(value: Any) -> Any:
    """An ISO date claim (``1990-05-12``) as dd/mm/yyyy; anything else as it is."""
    if isinstance(value, str) and ISO_DATE.match(value):
        return formatting.date_vn(value)
    return value


def _claim_choices(credential: Any) -> list[tuple[str, str]]:
    values = services.credential_claims(credential)
    choices = []
    for name, value in values.items():
        shown = ", ".join(value) if isinstance(value, list) else (
            (_("Có") if value else _("Không")) if isinstance(value, bool) else _shown_text(value))
        choices.append((name, f"{CLAIM_LABELS.get(name, name)}: {shown}"))
    return choices


@wallet_view
def credential(request: HttpRequest, pk: int) -> HttpResponse:
    account = request.account  # type: ignore[attr-defined]
    try:
        item = services.get_credential(account, pk)
    except DomainError:
        messages.error(request, _("Không tìm thấy giấy tờ trong ví"))
        return redirect("wallet:index")
    choices = _claim_choices(item)
    initial = [n for n in ("age_over_18", "full_name", "driving_classes") if n in dict(choices)]
    form = PresentForm(request.POST or None, claim_choices=choices, initial={"claims": initial,
                                                                             "session": request.GET.get("phien", "")})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                nonce, audience = data["nonce"], data["audience"]
                if data["session"]:
                    session = verifier.find_session(data["session"])
                    nonce, audience = session.nonce, session.audience
                if item.browser_jwk is not None:
                    prefix, signing_input = services.prepare_browser_presentation(
                        account=account, pk=pk, claims=data["claims"], nonce=nonce, audience=audience)
                    request.session[PENDING_SIGNATURE] = {"pk": pk, "prefix": prefix, "input": signing_input,
                                                          "claims": data["claims"], "at": int(time.time()),
                                                          "aud": audience}
                    return render_citizen_page(request, "wallet/sign.html", {
                        "item": item, "type": CREDENTIAL_TYPES[item.config_id].name, "signing_input": signing_input})
                payload = services.present(account=account, pk=pk, claims=data["claims"], nonce=nonce,
                                           audience=audience)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                if len(payload) <= QR_MAX_BYTES:
                    return _presentation(request, item, payload, data["claims"], audience)
                form.add_error("claims", _("Quá nhiều thông tin cho một mã QR (%(n)d ký tự, tối đa %(max)d): "
                                           "hãy bỏ bớt") % {"n": len(payload), "max": QR_MAX_BYTES})
    return render_citizen_page(request, "wallet/credential.html", {
        "item": item, "type": CREDENTIAL_TYPES[item.config_id].name, "form": form,
        "status": CredentialStatus(item.issued.status).label}, status=status)


def _presentation(request: HttpRequest, item: Any, payload: str, claims: list[str], audience: str) -> HttpResponse:
    """The compact QR code first (a short address a phone scans easily, issue #19 item 6), the
    full one (for verifiers without network) and both texts for pasting."""
    expires = int(time.time()) + PRESENTATION_MAX_AGE
    compact_text = compact.share(payload=payload, audience=audience, base=issuer_base(request)) if audience else ""
    return render_citizen_page(request, "wallet/presentation.html", {
        "item": item, "type": CREDENTIAL_TYPES[item.config_id].name, "payload": payload,
        "qr": _svg_data_uri(compact_text or payload), "compact": compact_text,
        "full_qr": _svg_data_uri(payload) if compact_text else "",
        "expires_at": expires, "max_age": PRESENTATION_MAX_AGE,
        "claims": [CLAIM_LABELS.get(c, c) for c in claims], "size": len(payload)})


@wallet_view
@require_POST
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    """The browser's signature over the KB-JWT prepared in ``credential`` (kept in the session, so
    only the signature comes from the page)."""
    pending = request.session.pop(PENDING_SIGNATURE, None)
    account = request.account  # type: ignore[attr-defined]
    if not pending or pending["pk"] != pk or time.time() - pending["at"] > PRESENTATION_MAX_AGE:
        messages.error(request, _("Phiên ký đã hết hạn, hãy tạo mã mới"))
        return redirect("wallet:credential", pk=pk)
    try:
        item = services.get_credential(account, pk)
        payload = services.finish_browser_presentation(
            account=account, pk=pk, prefix=pending["prefix"], signing_input=pending["input"],
            signature=request.POST.get("signature", "")[:200])
    except DomainError as exc:
        messages.error(request, str(exc.detail or exc.title))
        return redirect("wallet:credential", pk=pk)
    if len(payload) > QR_MAX_BYTES:
        messages.error(request, _("Quá nhiều thông tin cho một mã QR (%(n)d ký tự, tối đa %(max)d): hãy bỏ bớt")
                       % {"n": len(payload), "max": QR_MAX_BYTES})
        return redirect("wallet:credential", pk=pk)
    return _presentation(request, item, payload, pending["claims"], pending.get("aud", ""))


@wallet_view
@require_POST
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.remove_from_wallet(account=request.account, pk=pk)  # type: ignore[attr-defined]
    except DomainError as exc:
        messages.error(request, str(exc.title))
    else:
        messages.success(request, _("Đã xóa giấy tờ khỏi ví"))
    return redirect("wallet:index")


@wallet_view
@require_POST
def external_offer(request: HttpRequest) -> HttpResponse:
    """A credential offer for an external wallet app (OpenID4VCI); the tx_code goes by SMS."""
    try:
        offer = oid4vci.create_offer(account=request.account,  # type: ignore[attr-defined]
                                     config_id=request.POST.get("config_id", ""),
                                     document_ref=request.POST.get("document_ref", ""), base=issuer_base(request))
    except DomainError as exc:
        messages.error(request, str(exc.title))
        return redirect("wallet:index")
    return render_citizen_page(request, "wallet/offer.html", {"uri": offer["uri"], "qr": _svg_data_uri(offer["uri"])})
