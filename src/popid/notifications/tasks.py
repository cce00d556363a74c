"""The outbox consumers that tell citizens: a dossier changed state, a traffic fine was issued
on their vehicle, an agency asks their consent. Each runs in ``popid worker`` and is idempotent
(``services.notify`` writes one row per account and event, whatever the number of runs)."""

from __future__ import annotations

from typing import Any

from popid.core.outbox import consumer
from popid.exchange.models import TOPIC_CONSENT_REQUESTED, DataConsent
from popid.identity.models import AccountStatus, CitizenAccount, Guardianship
from popid.notifications.models import Kind
from popid.notifications.services import notify
from popid.services.models import TOPIC_DOSSIER_STATE
from popid.traffic.models import TOPIC_FINE_ISSUED, Decision


@consumer(TOPIC_DOSSIER_STATE)
def notify_dossier_state(event: Any) -> int:
    """The applicant and the guardian who filed for a ward learn each transition of the dossier."""
    p = event.payload
    return notify(account_ids=p.get("accounts", []), kind=Kind.DOSSIER_STATUS, event_id=event.pk,
                  subject=p.get("code", ""), at=event.created_at,
                  data={k: p.get(k, "") for k in ("procedure", "from_state", "to_state", "note")})


@consumer(TOPIC_FINE_ISSUED)
def notify_fine_issued(event: Any) -> int:
    """Every account of the vehicle's owner learns the penalty decision (as the SMS says)."""
    decision = Decision.objects.filter(pk=event.payload.get("decision")).first()
    if decision is None:
        return 0
    accounts = CitizenAccount.objects.filter(person_id=decision.owner_id).values_list("pk", flat=True)
    return notify(account_ids=accounts, kind=Kind.FINE_ISSUED, event_id=event.pk, subject=decision.number,
                  at=event.created_at, data={"plate": decision.plate_display, "amount": decision.amount,
                                             "due_on": decision.due_on.isoformat(),
                                             "violation": decision.violation_code})


@consumer(TOPIC_CONSENT_REQUESTED)
def notify_consent_requested(event: Any) -> int:
    """The person's active account, and the guardians of a ward's account, learn who asks what."""
    consent = DataConsent.objects.select_related("agency").filter(pk=event.payload.get("consent")).first()
    if consent is None:
        return 0
    accounts = set(CitizenAccount.objects.filter(person_id=consent.person_id, status=AccountStatus.ACTIVE)
                   .values_list("pk", flat=True))
    accounts |= set(Guardianship.objects.filter(ward__person_id=consent.person_id, ended_on__isnull=True)
                    .values_list("guardian_id", flat=True))
    return notify(account_ids=accounts, kind=Kind.CONSENT_REQUESTED, event_id=event.pk, subject=consent.reference,
                  at=event.created_at, data={"agency": consent.agency.name, "fields": list(consent.fields),
                                             "purpose": consent.purpose,
                                             "valid_until": consent.valid_until.isoformat()})
