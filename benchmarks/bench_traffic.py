"""Traffic detections ingested per second through the API on PostgreSQL, single and in batches of
100, against raw INSERTs of the same rows in the same run; and the end-to-end chain
detections → decisions → notices for N detections, wall time per stage.

API path: Django's WSGI handler in-process (``django.test.Client``: every middleware, the agency
token check with its scope, the ninja schema, ``traffic.services.ingest_detection`` with plate
parsing, the registration look-up by every plate spelling, the owner's access record and one JPEG
evidence image written to storage with its SHA-256), no sockets or gunicorn in front. Single =
``POST /api/v1/traffic/detections`` (multipart); batch = ``POST /api/v1/traffic/detections/batch``
with 100 detections (image base64), each in its own transaction.

Raw baseline: the detection and evidence rows those API calls wrote, copied (new device ids) with
psycopg — one transaction per detection for "single", one ``executemany`` transaction per 100 for
"batch"; no file, no access record, no look-up.

End to end: N detections through ``ingest_detection`` (no image), then ``confirm_detection`` for
each (decision number, catalogue points and range check, access record, a FineNotice per owner
account, the SMS queued after commit to the file outbox), as the system actor.

Run: /work/main/.venv/bin/python benchmarks/bench_traffic.py [--single 300] [--batches 5] [--e2e 100000]
(own database POPID_TRAFFIC_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/popid_bench_traffic,
dropped and re-created each run).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import recreate_database, write_result

URL = os.environ.get("POPID_TRAFFIC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/popid_bench_traffic")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 4
COMMUNE = "00070"  # Phường Hoàn Kiếm


def setup(owners: int) -> None:
    recreate_database(URL)
    os.environ.update({"POPID_DATABASE_URL": URL, "POPID_DATA_DIR": "/tmp/popid-bench-traffic",
                       "DJANGO_SETTINGS_MODULE": "popid.settings"})
    Path("/tmp/popid-bench-traffic").mkdir(exist_ok=True)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    seed(owners)


def plate(i: int) -> tuple[str, str]:
    """(stored, as the camera reads it): 29-B1 NNN.NN motorbike plates."""
    digits = f"{i:05d}"
    return f"29B1-{digits}", f"29-B1 {digits[:3]}.{digits[3:]}"


def seed(owners: int) -> None:
    from django.contrib.auth import get_user_model

    from popid.documents.models import VehicleRegistration
    from popid.identity.models import CitizenAccount
    from popid.registry.models import Person

    persons = Person.objects.bulk_create([Person(
        id_number=f"0019{i:08d}", full_name=f"Nguyễn Văn Thử {i}", name_norm=f"nguyen van thu {i}", birth_year=1980,
        birth_date=date(1980, 1, 1), sex="M", commune_code=COMMUNE, province_code="01") for i in range(owners)],
        batch_size=2000)
    users = get_user_model().objects.bulk_create([get_user_model()(username=p.id_number) for p in persons],
                                                 batch_size=2000)
    CitizenAccount.objects.bulk_create([CitizenAccount(user=u, person=p, phone=f"09{i:08d}")
                                        for i, (u, p) in enumerate(zip(users, persons, strict=True))], batch_size=2000)
    VehicleRegistration.objects.bulk_create([VehicleRegistration(
        plate=plate(i)[0], owner=p, vehicle_type="Xe mô tô", brand="Honda", model_name="Wave", colour="Đen",
        chassis_number=f"RLBENCH{i:08d}", engine_number=f"E{i}", registered_on=date(2020, 1, 1),
        issued_by="Công an Hà Nội") for i, p in enumerate(persons)], batch_size=2000)


def camera_token(client) -> str:
    from django.utils import timezone
    from joserfc.jwk import ECKey
    from tests.exchange.test_exchange_api import get_token

    from popid.core.access import Actor
    from popid.exchange import management_services as manage

    admin = Actor.system("bench")
    key = ECKey.generate_key("P-256", parameters={"kid": "bench-1", "alg": "ES256"}, private=True)
    agency = manage.create_agency(actor=admin, code="csgtbench", name="Phòng CSGT", kind="police")
    subsystem = manage.create_subsystem(actor=admin, agency=agency, code="camera", name="Camera",
                                        jwks={"keys": [key.as_dict(private=False)]})
    manage.create_grant(actor=admin, subsystem=subsystem, service="traffic_detections", fields=[],
                        legal_basis="Luật Xử lý vi phạm hành chính 2012", expires_at=timezone.now() + timedelta(days=1))
    return get_token(client, subsystem, key)


def body(i: int, device: str, owners: int, at) -> dict:
    return {"device_id": device, "plate": plate(i % owners)[1], "vehicle_kind": "motorbike",
            "detected_at": (at - timedelta(seconds=i)).isoformat(), "commune_code": COMMUNE, "latitude": "21.02880",
            "longitude": "105.85210", "violation_code": "M07-07C"}


def api_single(client, token: str, n: int, owners: int) -> float:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    at = timezone.now() - timedelta(hours=1)
    start = time.perf_counter()
    for i in range(n):
        response = client.post("/api/v1/traffic/detections", {
            "detection": json.dumps(body(i, "CAM-SINGLE", owners, at)),
            "evidence": [SimpleUploadedFile("e.jpg", JPEG, content_type="image/jpeg")]},
            HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 201, response.content
    return time.perf_counter() - start


def api_batches(client, token: str, batches: int, owners: int) -> float:
    from django.utils import timezone

    at = timezone.now() - timedelta(hours=2)
    image = base64.b64encode(JPEG).decode()
    payloads = [json.dumps({"detections": [{**body(b * 100 + i, "CAM-BATCH", owners, at), "evidence": [image]}
                                           for i in range(100)]}) for b in range(batches)]
    start = time.perf_counter()
    for payload in payloads:
        response = client.post("/api/v1/traffic/detections/batch", payload, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200 and response.json()["created"] == 100, response.content[:500]
    return time.perf_counter() - start


DETECTION_COLUMNS = ["device_id", "plate_text", "plate_key", "plate_display", "vehicle_kind", "detected_at",
                     "commune_code", "latitude", "longitude", "violation_code", "measured_value", "state",
                     "manual_reason", "vehicle_id", "source", "received_at", "reviewed_by", "reviewed_unit",
                     "reviewed_at", "review_reason"]
IMAGE_COLUMNS = ["file", "sha256", "content_type", "size"]


def raw_copy(device: str, per_transaction: int) -> tuple[int, float]:
    """Insert copies of the rows the API wrote for ``device`` (detection + its evidence rows)."""
    cols = ", ".join(DETECTION_COLUMNS)
    with psycopg.connect(URL) as conn:
        rows = conn.execute(f"SELECT d.id, {', '.join('d.' + c for c in DETECTION_COLUMNS)}, "
                            f"{', '.join('i.' + c for c in IMAGE_COLUMNS)} FROM traffic_detection d "
                            "JOIN traffic_evidenceimage i ON i.detection_id = d.id WHERE d.device_id = %s "
                            "ORDER BY d.id", (device,)).fetchall()
    n_det = len(DETECTION_COLUMNS)
    insert_det = (f"INSERT INTO traffic_detection ({cols}) VALUES ({', '.join(['%s'] * n_det)}) RETURNING id")
    insert_img = ("INSERT INTO traffic_evidenceimage (detection_id, file, sha256, content_type, size) "
                  "VALUES (%s, %s, %s, %s, %s)")
    start = time.perf_counter()
    with psycopg.connect(URL) as conn:
        for offset in range(0, len(rows), per_transaction):
            with conn.transaction():
                chunk = rows[offset:offset + per_transaction]
                with conn.cursor() as cur:
                    if per_transaction == 1:
                        det = list(chunk[0][1:1 + n_det])
                        det[0] = "RAW-" + det[0]
                        new_id = cur.execute(insert_det, det).fetchone()[0]
                        cur.execute(insert_img, (new_id, *chunk[0][1 + n_det:]))
                    else:
                        dets = [["RAW-" + r[1], *r[2:1 + n_det]] for r in chunk]
                        cur.executemany(insert_det, dets, returning=True)
                        ids = []
                        while True:
                            ids.append(cur.fetchone()[0])
                            if not cur.nextset():
                                break
                        cur.executemany(insert_img, [(i, *r[1 + n_det:]) for i, r in zip(ids, chunk, strict=True)])
    return len(rows), time.perf_counter() - start


def end_to_end(n: int, owners: int, chunk: int = 1000) -> dict:
    from django.db import connection
    from django.utils import timezone

    from popid.core.access import Actor
    from popid.traffic import services
    from popid.traffic.models import Decision, FineNotice

    at = timezone.now() - timedelta(hours=3)
    t0 = time.perf_counter()
    ids = []
    for i in range(n):
        values = body(i, "CAM-E2E", owners, at)
        values["detected_at"] = at - timedelta(seconds=i)
        detection, created = services.ingest_detection(source="bench/e2e", data=services.IncomingDetection(**values))
        assert created and detection.state == "pending"
        ids.append(detection.pk)
    t1 = time.perf_counter()
    officer = Actor.system("bench-officer")
    for pk in ids:
        services.confirm_detection(actor=officer, pk=pk, amount=4_000_000, reason="Ảnh rõ")
    connection.close()
    t2 = time.perf_counter()
    decisions = Decision.objects.filter(detection__device_id="CAM-E2E").count()
    notices = FineNotice.objects.filter(decision__detection__device_id="CAM-E2E").count()
    return {"n": n, "ingest_s": round(t1 - t0, 1), "decide_and_notify_s": round(t2 - t1, 1),
            "total_s": round(t2 - t0, 1), "decisions": decisions, "notices": notices,
            "ingest_per_s": round(n / (t1 - t0), 1), "decide_per_s": round(n / (t2 - t1), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--e2e", type=int, default=100_000)
    args = parser.parse_args()
    started = time.time()
    setup(args.owners)
    from django.test import Client

    client = Client()
    token = camera_token(client)
    load = os.getloadavg()
    single_s = api_single(client, token, args.single, args.owners)
    batch_s = api_batches(client, token, args.batches, args.owners)
    raw_single_n, raw_single_s = raw_copy("CAM-SINGLE", 1)
    raw_batch_n, raw_batch_s = raw_copy("CAM-BATCH", 100)
    result = {
        "owners": args.owners, "load_avg_at_start": [round(x, 1) for x in load],
        "api_single_per_s": round(args.single / single_s, 1),
        "raw_single_per_s": round(raw_single_n / raw_single_s, 1),
        "api_batch_per_s": round(args.batches * 100 / batch_s, 1),
        "raw_batch_per_s": round(raw_batch_n / raw_batch_s, 1),
    }
    result["raw_over_api_single"] = round(result["raw_single_per_s"] / result["api_single_per_s"], 1)
    result["raw_over_api_batch"] = round(result["raw_batch_per_s"] / result["api_batch_per_s"], 1)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    if args.e2e:
        result["end_to_end"] = end_to_end(args.e2e, args.owners)
        print(json.dumps(result["end_to_end"]), flush=True)
    result["load_avg_at_end"] = [round(x, 1) for x in os.getloadavg()]
    result["wall_s"] = round(time.time() - started, 1)
    print(json.dumps(result, ensure_ascii=False))
    write_result("traffic", result)


if __name__ == "__main__":
    main()
