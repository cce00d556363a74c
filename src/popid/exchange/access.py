"""Who an agency request is, why it is made, and the access context every release carries.

Every personal-data read of the exchange (eKYC answers included) goes through
``core.access.record_access`` with an ``AccessContext`` built here: the actor is the agency
subsystem together with the initiating official, so the access ledger and the citizen's history
show exactly which system, which employee, why and under which law.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from popid.core.access import AccessContext, Actor
from popid.core.errors import ValidationFailed
from popid.core.models import ScopeLevel
from popid.core.permissions import AGENCY_ROLE
from popid.exchange.models import Subsystem

CHANNEL_EXCHANGE = "exchange"
CHANNEL_EKYC = "ekyc"


@dataclass(frozen=True)
class RequestContext:
    """What every agency request must state (the API's ``context`` object)."""

    purpose: str
    legal_basis: str
    official: str
    consent_ref: str = ""
    hidden_until: datetime | None = None

    def cleaned(self) -> RequestContext:
        errors = []
        purpose, legal_basis, official = (self.purpose or "").strip(), (self.legal_basis or "").strip(), \
            (self.official or "").strip()
        for name, value, limit in (("context.purpose", purpose, 200), ("context.legal_basis", legal_basis, 200),
                                   ("context.official", official, 150)):
            if not value:
                errors.append({"field": name, "reason": "required", "message": _("Trường này là bắt buộc")})
            elif len(value) > limit:
                errors.append({"field": name, "reason": "too_long",
                               "message": _("Tối đa %(n)d ký tự") % {"n": limit}})
        if self.hidden_until is not None and self.hidden_until <= timezone.now():
            errors.append({"field": "context.hidden_until", "reason": "past",
                           "message": _("Thời điểm ẩn phải ở tương lai")})
        if len(self.consent_ref or "") > 40:
            errors.append({"field": "context.consent_ref", "reason": "too_long",
                           "message": _("Tối đa %(n)d ký tự") % {"n": 40}})
        if errors:
            raise ValidationFailed(errors)
        return RequestContext(purpose=purpose, legal_basis=legal_basis, official=official,
                              consent_ref=(self.consent_ref or "").strip(), hidden_until=self.hidden_until)


def agency_actor(subsystem: Subsystem, official: str) -> Actor:
    """The agency subsystem acting on behalf of a named official. Reads are limited by grants,
    not territory (level nation), and it can never write (role is not officer/admin)."""
    agency = subsystem.agency
    return Actor(label=f"{official} — {agency.code}/{subsystem.code}"[:200], role=AGENCY_ROLE,
                 level=ScopeLevel.NATION, unit_code="", unit_name=agency.name[:200])


def access_context(subsystem: Subsystem, rc: RequestContext, *, channel: str = CHANNEL_EXCHANGE,
                   consent_ref: str = "") -> AccessContext:
    return AccessContext(actor=agency_actor(subsystem, rc.official), purpose=rc.purpose,
                         legal_basis=rc.legal_basis, consent_ref=consent_ref, channel=channel,
                         hidden_until=rc.hidden_until,
                         extra={"agency": subsystem.agency.code, "subsystem": subsystem.code})
