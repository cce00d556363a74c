"""The registry actor of a citizen (``core.access.Actor.citizen``), built from their account:
their own record plus the wards they manage. Depends on the models only, so selectors, the
session module (``identity.auth``) and other apps can all use it without import cycles."""

from __future__ import annotations

from popid.core.access import Actor
from popid.identity.models import CitizenAccount, Guardianship


def citizen_actor(account: CitizenAccount) -> Actor:
    """The registry actor for a citizen: their own record plus the wards they manage."""
    ward_ids = Guardianship.objects.filter(guardian=account, ended_on__isnull=True).values_list(
        "ward__person_id", flat=True)
    return Actor.citizen(id_number=account.id_number, person_id=account.person_id,
                         ward_person_ids=list(ward_ids), user_id=account.user_id)
