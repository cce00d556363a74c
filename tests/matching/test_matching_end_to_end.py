"""Issue #13 "done when", end to end: a seeded population with hard duplicates, `popid match
registry` fills the review queue, an officer opens the queue and a pair with its evidence,
decides "same person", and the agency subscribed to merges receives the signed
``person.merged`` webhook naming the cancelled number."""

from __future__ import annotations

from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import KeySet

from popid.exchange import webhooks
from popid.exchange.models import DeliveryStatus, Grant
from popid.matching.models import CandidatePair, PairStatus
from popid.registry.models import CancelledIdNumber, Person, PersonStatus
from popid.registry.synthetic import seed_population
from tests.conftest import make_staff
from tests.exchange.test_exchange_services import make_bank
from tests.exchange.test_exchange_webhooks import Receiver, subscribe


def test_seeded_duplicate_reviewed_merged_and_delivered(client, settings, tmp_path, db):
    settings.DATA_DIR = tmp_path
    settings.POPID_EXCHANGE_ALLOW_LOCAL_WEBHOOKS = True  # the test receiver listens on 127.0.0.1
    truth = seed_population(persons=1500, seed=7, duplicate_rate=0.04).truth
    duplicates = {tuple(sorted(d["pair"])) for d in truth["match_duplicates"]}
    call_command("match", "registry", verbosity=0)
    assert CandidatePair.objects.filter(band="probable").count() >= len(duplicates) // 2

    _agency, subsystem, _key = make_bank()
    Grant.objects.filter(subsystem=subsystem, service="events").update(event_types=["death", "merge"])
    receiver = Receiver()
    try:
        subscribe(subsystem, receiver.url, events=("merge",))
        numbers = dict(Person.objects.values_list("pk", "id_number"))
        provinces = dict(Person.objects.values_list("pk", "province_code"))
        pair = next(p for p in CandidatePair.objects.filter(band="probable").order_by("pk")
                    if tuple(sorted((numbers[p.left_id], numbers[p.right_id]))) in duplicates
                    and provinces[p.left_id] == provinces[p.right_id])
        # an officer of the province both records live in: a merge needs both in their jurisdiction
        province = provinces[pair.left_id]
        client.force_login(make_staff(f"cb.{province}", role="officer", level="province", unit_code=province))
        queue = client.get("/so-khop/").content.decode()
        assert f"/so-khop/cap/{pair.pk}/" in queue
        page = client.get(f"/so-khop/cap/{pair.pk}/").content.decode()
        assert "<svg" in page and "bar-for" in page  # the evidence waterfall
        response = client.post(f"/so-khop/cap/{pair.pk}/quyet-dinh/",
                               {"decision": "same", "survivor": "left", "version": pair.version,
                                "note": "Cùng cha mẹ, cùng nơi đăng ký khai sinh"})
        assert response.status_code == 302
        pair.refresh_from_db()
        survivor, duplicate = numbers[pair.left_id], numbers[pair.right_id]
        assert pair.status == PairStatus.SAME
        assert Person.objects.get(pk=pair.right_id).status == PersonStatus.MERGED
        assert CancelledIdNumber.objects.filter(id_number=duplicate).exists()

        counts = webhooks.run_once(timeout=5)
        assert counts[DeliveryStatus.DELIVERED] == 1 and len(receiver.bodies) == 1
        published = client.get("/api/v1/exchange/jwks").json()
        claims = jwt.decode(receiver.bodies[0].decode(), KeySet.import_key_set(published), algorithms=["ES256"]).claims
        assert claims["event"]["type"] == "merge" and claims["event"]["merged_id_number"] == duplicate
        assert claims["person"]["id_number"] == survivor
    finally:
        receiver.close()
