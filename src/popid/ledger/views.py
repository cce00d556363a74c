"""Citizen access-history page and proof-bundle download (citizen portal, PopID account login).

Thin: resolve whose history (the account holder, or a ward of their active guardianship), call
``selectors.access_history``, render. Verification happens in the browser (static
``ledger/ledger-verify.js``, WebCrypto SHA-256 and Ed25519), never trusted from the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from popid.identity import auth
from popid.identity.models import CitizenAccount
from popid.identity.selectors import active_guardianship, wards_of
from popid.ledger import selectors
from popid.registry.display import field_label
from popid.web.shell import citizen_view

CHANNELS = {
    "console": _("Cán bộ tra cứu trên hệ thống nghiệp vụ"),
    "api": _("API nghiệp vụ"),
    "oidc": _("Cung cấp cho dịch vụ đăng nhập bằng PopID"),
    "identity": _("Tài khoản định danh của bạn"),
    "portal": _("Cổng dịch vụ công"),
    "exchange": _("Cơ quan, tổ chức được cấp quyền khai thác"),
    "ekyc": _("Xác thực eKYC của cơ quan, tổ chức"),
    "counter": _("Giải quyết thủ tục trực tiếp tại cơ quan"),
    "online": _("Giải quyết thủ tục trực tuyến"),
    "oid4vci": _("Cấp giấy tờ vào ví điện tử"),
    "web_wallet": _("Cấp giấy tờ vào ví điện tử"),
    "wallet": _("Ví giấy tờ điện tử"),
    "verifier": _("Kiểm tra giấy tờ (đọc chip)"),
}


def _subject(request: HttpRequest, account: CitizenAccount) -> CitizenAccount:
    """Whose history: ``?ward=<account id>`` only for a ward of an active guardianship; anything
    else is the same 404 as a missing account."""
    ward = request.GET.get("ward", "")
    if not ward:
        return account
    if not ward.isdigit():
        raise Http404
    link = active_guardianship(guardian=account, ward_pk=int(ward))
    if link is None:
        raise Http404
    return link.ward


@citizen_view
def history(request: HttpRequest) -> HttpResponse:
    account: CitizenAccount = request.account  # type: ignore[attr-defined]
    subject = _subject(request, account)
    data = selectors.access_history(person=subject.person)
    labels = _field_labels(row.record.fields for row in data.rows)
    rows = [{"row": row, "channel_label": CHANNELS.get(row.record.channel, row.record.channel),
             "fields_label": ", ".join(labels.get(f, f) for f in row.record.fields)} for row in data.rows]
    return render(request, "ledger/history.html", {
        "field_labels": labels,
        "citizen": account, "acting_for": auth.acting_for(request), "subject": subject,
        "wards": [link.ward for link in wards_of(account=account)], "rows": rows, "checkpoint": data.checkpoint,
        "bundle": selectors.proof_bundle(data),
    })


def _field_labels(field_lists: Iterable[Iterable[str]]) -> dict[str, str]:
    """People read "Họ, chữ đệm và tên" and "Toàn bộ hồ sơ", not ``full_name`` and ``*``. The same
    map goes to the page's script, which checks the shown labels against the verified record."""
    codes = {code for fields in field_lists for code in fields}
    return {code: str(_("Toàn bộ hồ sơ") if code == "*" else _access_field_label(code)) for code in sorted(codes)}


def _access_field_label(code: str) -> str:
    """A registry field, or a claim a wallet credential carried (``age_over_18``): never the code."""
    from popid.wallet.issuers import CLAIM_LABELS

    label = field_label(code)
    if label == code and code in CLAIM_LABELS:
        return str(CLAIM_LABELS[code])
    return label if label != code else code.replace("_", " ")


@citizen_view
def bundle(request: HttpRequest) -> HttpResponse:
    account: CitizenAccount = request.account  # type: ignore[attr-defined]
    subject = _subject(request, account)
    payload = selectors.proof_bundle(selectors.access_history(person=subject.person))
    response = HttpResponse(json.dumps(payload, ensure_ascii=False, indent=1), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="bang-chung-truy-cap-{subject.id_number}.json"'
    return response
