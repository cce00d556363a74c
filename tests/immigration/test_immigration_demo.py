"""``popid seed`` hook: establishments, the demo citizen as staff, guests declared from MRZ
lines, an overstay alert and a watch-list hit; running it twice adds nothing."""

from __future__ import annotations

import pytest

from popid.identity.demo import ensure_demo_citizens
from popid.immigration import demo
from popid.immigration.models import (
    Establishment,
    EstablishmentStaff,
    OverstayAlert,
    Passport,
    Stay,
    TemporaryResidenceCard,
    WatchHit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def test_seed_demo_is_idempotent(family):
    ensure_demo_citizens()
    lines = demo.ensure_demo()
    assert "/luu-tru/" in "\n".join(lines) and "popid mrz parse 'P<VNMNGUYEN<<VAN<AN" in "\n".join(lines)
    assert Passport.objects.get().person == family["an"]
    counts = (Establishment.objects.count(), EstablishmentStaff.objects.count(), Stay.objects.count(),
              OverstayAlert.objects.count(), WatchHit.objects.count())
    assert counts == (3, 2, 4, 1, 2)
    assert sorted(WatchHit.objects.values_list("matched_on", flat=True)) == ["document", "matcher"]
    assert WatchHit.objects.get(matched_on="matcher").stay.person.surname == "SMITH"
    assert TemporaryResidenceCard.objects.get().purpose == "LĐ1"
    assert OverstayAlert.objects.get().person.surname == "SATO"
    assert Stay.objects.filter(arrival_late=True).count() == 3  # declared 15 h, 30 h and 10 days after arrival
    demo.ensure_demo()
    assert Passport.objects.count() == 1 and TemporaryResidenceCard.objects.count() == 1
    assert counts == (Establishment.objects.count(), EstablishmentStaff.objects.count(), Stay.objects.count(),
                      OverstayAlert.objects.count(), WatchHit.objects.count())
