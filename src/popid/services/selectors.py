"""Reads for the public-service portal: pre-filled fields (recorded as an access through the
registry selectors), a citizen's own dossiers and the officer queue with deadline status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from popid.core.access import AccessContext, Actor, record_access
from popid.core.rawrows import Insert
from popid.identity.actors import citizen_actor
from popid.identity.models import CitizenAccount
from popid.registry import selectors as registry_selectors
from popid.registry.errors import PersonNotFound
from popid.registry.models import HouseholdMember, Person, Residence
from popid.registry.validation import today as registry_today
from popid.services.calendar import LOCAL_TZ, add_working_days, working_days_between
from popid.services.errors import DossierNotFound
from popid.services.models import FINAL_STATES, Dossier, DossierState, PrefillRead
from popid.services.procedures import Procedure

DUE_SOON_WORKING_DAYS = 1


def permanent_residence(person: Person) -> Residence | None:
    return registry_selectors.current_permanent_residence(person)


def _source_value(person: Person, source: str) -> Any:
    if source in {"permanent_address", "permanent_commune_code"}:
        residence = permanent_residence(person)
        if residence is None:
            return None
        return residence.address if source == "permanent_address" else residence.commune_code
    if source == "household_code":
        member = (HouseholdMember.objects.select_related("household")
                  .filter(person=person, left_on__isnull=True).first())
        return member.household.code if member else None
    if source == "birth_date":
        return person.birth_date.isoformat() if person.birth_date else None
    return getattr(person, source, None) or None


def prefill_values(*, person: Person, procedure: Procedure) -> dict[str, Any]:
    """The procedure's pre-filled fields for a person already read through an AccessContext."""
    return {f.name: _source_value(person, f.prefill) for f in procedure.fields if f.prefill}


_PREFILL_MARK = Insert(PrefillRead, ignore_conflicts=True)


def _already_read_for_draft(account: CitizenAccount, procedure: Procedure, draft: str) -> bool:
    """True when this draft's pre-fill was already recorded; otherwise marks it. One statement, no
    savepoint (the submission's hot path): ``INSERT … ON CONFLICT DO NOTHING`` on the unique
    (applicant, draft) row, whose row count says whether the mark is new. Of two requests racing
    on a new draft the database lets one insert; if that one rolls back, the other's insert
    stands and it records the read."""
    marked = _PREFILL_MARK.save(PrefillRead(applicant=account, draft_key=draft[:100],
                                            procedure_code=procedure.code[:40]))
    return not marked


def prefilled_fields(*, account: CitizenAccount, procedure: Procedure, subject: CitizenAccount | None = None,
                     channel: str = "portal", draft: str = "") -> dict[str, Any]:
    """What the state already knows about the applicant (or the ward), read through the registry
    selectors so the read is recorded with its purpose — once per ``draft`` (the form's
    idempotency key): showing the same draft again, or checking it at submission, reads the same
    fields for the same purpose and adds no entry to the citizen's access history."""
    target = subject or account
    sources = sorted({f.prefill for f in procedure.fields if f.prefill})
    actor = citizen_actor(account)
    if draft and account.pk and _already_read_for_draft(account, procedure, draft):
        person = Person.objects.filter(pk=target.person_id).first() if target.person_id else None
        if person is None or not actor.may_read_person(person):
            raise PersonNotFound(field="id_number")
        return prefill_values(person=person, procedure=procedure)
    ctx = AccessContext(actor=actor, purpose=f"Điền sẵn hồ sơ: {procedure.name}"[:200],
                        legal_basis="Luật Cư trú 2020; Nghị định 107/2021/NĐ-CP", channel=channel)
    person = registry_selectors.access_person(ctx=ctx, id_number=target.id_number, fields=sources)
    return prefill_values(person=person, procedure=procedure)


def own_dossiers(account: CitizenAccount) -> QuerySet[Dossier]:
    return Dossier.objects.filter(Q(applicant=account) | Q(on_behalf_of=account)).order_by("-received_at", "-pk")


@dataclass(frozen=True)
class QueueRow:
    dossier: Dossier
    deadline_status: str
    working_days_left: int


def deadline_status(dossier: Dossier, *, today: date | None = None) -> tuple[str, int]:
    """on_time / due_soon (at most one working day left) / overdue; closed dossiers are 'closed';
    while a supplement is awaited the clock stands still: 'paused', with the days left frozen at
    the day of the request."""
    today = today or registry_today()
    left = working_days_between(today, dossier.deadline)
    if dossier.state in FINAL_STATES:
        return "closed", left
    if dossier.state == DossierState.SUPPLEMENT_REQUESTED and dossier.supplement_requested_at is not None:
        requested = dossier.supplement_requested_at.astimezone(LOCAL_TZ).date()
        return "paused", working_days_between(min(requested, today), dossier.deadline)
    if today > dossier.deadline:
        return "overdue", left
    if left <= DUE_SOON_WORKING_DAYS:
        return "due_soon", left
    return "on_time", left


def officer_queue(*, actor: Actor, state: str | None = None, include_closed: bool = False,
                  today: date | None = None) -> list[QueueRow]:
    qs = Dossier.objects.filter(actor.jurisdiction_q("commune_code")).select_related("subject")
    if state:
        qs = qs.filter(state=state)
    elif not include_closed:
        qs = qs.exclude(state__in=list(FINAL_STATES))
    rows = []
    for dossier in qs.order_by("deadline", "received_at", "pk")[:500]:
        status, left = deadline_status(dossier, today=today)
        rows.append(QueueRow(dossier=dossier, deadline_status=status, working_days_left=left))
    return rows


def projected_deadline(dossier: Dossier, *, today: date | None = None) -> date:
    """The deadline if the citizen answered the supplement request today (the working days since
    the request are added); the stored deadline in any other state."""
    if dossier.state != DossierState.SUPPLEMENT_REQUESTED or dossier.supplement_requested_at is None:
        return dossier.deadline
    today = today or registry_today()
    requested = dossier.supplement_requested_at.astimezone(LOCAL_TZ).date()
    return add_working_days(dossier.deadline, max(0, working_days_between(requested, today)))


# --- guarded reads -------------------------------------------------------------------------------
DOSSIER_FIELDS = ("dossier", "dossier_data", "dossier_attachments")


def access_dossier_for_officer(*, ctx: AccessContext, code: str, for_update: bool = False) -> Dossier:
    """The one officer read of a dossier (API, console pages and the workflow commands): fetch,
    check jurisdiction — another unit's dossier raises the same ``DossierNotFound`` as a missing
    one — and record the read of the subject's data in the access log. ``for_update`` locks the
    row for a command (call it inside the command's transaction)."""
    if for_update:
        dossier = Dossier.objects.select_for_update().filter(code=code).first()
    else:
        dossier = Dossier.objects.select_related("subject", "applicant", "claimed_by").filter(code=code).first()
    if dossier is None or not ctx.actor.covers_commune(dossier.commune_code):
        raise DossierNotFound()
    record_access(ctx=ctx, person_id_numbers=[dossier.subject.id_number], fields=DOSSIER_FIELDS)
    return dossier
