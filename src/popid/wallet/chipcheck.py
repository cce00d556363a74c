"""Checking a chip-card QR against the registry (online, staff only): the read goes through
``registry.selectors.access_person``, so it is jurisdiction-checked and leaves an access record
with the verifier's purpose."""

from __future__ import annotations

from dataclasses import dataclass, field

from popid.core.access import AccessContext
from popid.core.text import normalize_text
from popid.registry.models import IdentityCard, PersonStatus
from popid.registry.selectors import access_person
from popid.wallet.chipqr import ChipCardQr

FIELDS = ["id_number", "old_id_number", "full_name", "birth_date", "sex", "status", "cards"]


@dataclass
class ChipCheck:
    matches: bool
    mismatches: list[str] = field(default_factory=list)
    person_status: str = ""
    card_active: bool | None = None


def check_against_registry(*, ctx: AccessContext, card: ChipCardQr) -> ChipCheck:
    """Compare each field printed in the QR with the registry (names accent- and case-insensitive)."""
    person = access_person(ctx=ctx, id_number=card.id_number, fields=FIELDS)
    mismatches = []
    if person.id_number != card.id_number:
        mismatches.append("id_number")  # a cancelled number: the card predates a reissue
    if normalize_text(person.full_name) != normalize_text(card.full_name):
        mismatches.append("full_name")
    if person.birth_date != card.birth_date:
        mismatches.append("birth_date")
    if person.sex != card.sex:
        mismatches.append("sex")
    if card.old_id_number and person.old_id_number and person.old_id_number != card.old_id_number:
        mismatches.append("old_id_number")
    cards = IdentityCard.objects.filter(person=person, issued_on=card.issued_on)
    card_active = cards.filter(is_active=True).exists() if cards.exists() else None
    if card_active is False:
        mismatches.append("card_inactive")
    if person.status != PersonStatus.ALIVE:
        mismatches.append("status")
    return ChipCheck(matches=not mismatches, mismatches=mismatches, person_status=person.get_status_display(),
                     card_active=card_active)
