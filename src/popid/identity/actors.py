"""The registry actor of a citizen (``core.access.Actor.citizen``), built from their account:
their own record plus the wards they manage. Depends on the models only, so selectors, the
session module (``identity.auth``) and other apps can all use it without import cycles."""

from __future__ import annotations

from popid.core.access import Actor
from popid.core.rawrows import Columns, FixedSql, fetch, read_connection
from popid.identity.models import CitizenAccount, Guardianship

_GUARDIANSHIP, _WARD = Columns(Guardianship, "g"), Columns(CitizenAccount, "w")
# Guardianship.objects.filter(guardian=account, ended_on__isnull=True).values_list("ward__person_id"),
# written once: every citizen request that reads the registry asks it (core.rawrows).
_WARD_PERSONS = FixedSql(lambda c: (
    f"SELECT {_WARD.column('person', c)} FROM {_GUARDIANSHIP.table(c)} "  # noqa: S608 - model metadata only
    f"INNER JOIN {_WARD.table(c)} ON {_WARD.column('id', c)} = {_GUARDIANSHIP.column('ward', c)} "
    f"WHERE {_GUARDIANSHIP.column('guardian', c)} = %s AND {_GUARDIANSHIP.column('ended_on', c)} IS NULL"))


def citizen_actor(account: CitizenAccount) -> Actor:
    """The registry actor for a citizen: their own record plus the wards they manage."""
    connection = read_connection(Guardianship)
    ward_ids = [row[0] for row in fetch(connection, _WARD_PERSONS(connection), [account.pk])]
    return Actor.citizen(id_number=account.id_number, person_id=account.person_id,
                         ward_person_ids=ward_ids, user_id=account.user_id)
