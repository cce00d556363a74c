"""A notification as people read it: a title, a sentence and where to act, in the reader's
language at display time (the row keeps values, not sentences), with the shared formatting
helpers (money, dates) and words instead of codes (dossier states, procedures, fields)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from popid.core import formatting
from popid.exchange.fields import labels as field_labels
from popid.notifications.models import Kind, Notification
from popid.services.models import DossierState
from popid.services.procedures import catalogue as procedures
from popid.traffic.catalogue import get_violation


@dataclass(frozen=True)
class Shown:
    pk: int
    kind: str
    unread: bool
    title: str
    body: str
    action: str  # the link's words
    url: str
    created_at: datetime


def _state(code: str) -> str:
    try:
        return str(DossierState(code).label)
    except ValueError:
        return code


def _date(iso: str) -> str:
    try:
        return formatting.date_vn(datetime.fromisoformat(iso) if "T" in iso else date.fromisoformat(iso))
    except (TypeError, ValueError):
        return formatting.DASH


def shown(n: Notification) -> Shown:
    d = n.data or {}
    if n.kind == Kind.DOSSIER_STATUS:
        procedure = procedures().get(d.get("procedure", ""))
        title = _("Hồ sơ %(code)s: %(state)s") % {"code": n.subject, "state": _state(d.get("to_state", ""))}
        body = _(procedure.name) if procedure else ""
        if d.get("note"):
            body = f"{body} — {d['note']}" if body else str(d["note"])
        return Shown(n.pk, n.kind, n.read_at is None, title, body, _("Xem hồ sơ"),
                     reverse("dvc:dossier", args=[n.subject]), n.created_at)
    if n.kind == Kind.FINE_ISSUED:
        violation = get_violation(d.get("violation", ""))
        title = _("Quyết định xử phạt %(number)s") % {"number": n.subject}
        body = _("Phương tiện %(plate)s: phạt %(amount)s, hạn nộp %(due)s.") % {
            "plate": d.get("plate", ""), "amount": formatting.money(d.get("amount")), "due": _date(d.get("due_on", ""))}
        if violation is not None:
            body = f"{body} {violation.en if (get_language() or 'vi').startswith('en') else violation.vi}"
        return Shown(n.pk, n.kind, n.read_at is None, title, body, _("Xem và nộp phạt"),
                     reverse("traffic:my_fines"), n.created_at)
    title = _("%(agency)s xin bạn đồng ý chia sẻ dữ liệu") % {"agency": d.get("agency", "")}
    body = _("Thông tin: %(fields)s. Mục đích: %(purpose)s. Mã yêu cầu %(ref)s; "
             "nếu bạn đồng ý, đồng ý có hiệu lực đến %(until)s.") % {
        "fields": ", ".join(field_labels(d.get("fields", []))), "purpose": d.get("purpose", ""), "ref": n.subject,
        "until": _date(d.get("valid_until", ""))}
    return Shown(n.pk, n.kind, n.read_at is None, title, body, _("Trả lời yêu cầu"),
                 reverse("exchange:citizen_consents"), n.created_at)
