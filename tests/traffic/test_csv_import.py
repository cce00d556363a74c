"""CSV import of detections: same checks and idempotency as the API, bad rows reported by line."""

from __future__ import annotations

import csv
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from popid.traffic.imports import COLUMNS
from popid.traffic.models import Detection, EvidenceImage
from tests.conftest import HOAN_KIEM
from tests.traffic.conftest import JPEG


def write_csv(tmp_path, rows: list[dict]) -> str:
    (tmp_path / "img").mkdir(exist_ok=True)
    (tmp_path / "img" / "a.jpg").write_bytes(JPEG)
    (tmp_path / "img" / "fake.jpg").write_bytes(b"not an image at all")
    path = tmp_path / "detections.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return str(path)


def row(**changes) -> dict:
    base = {"device_id": "PATROL-7", "plate": "29-B1 123.45", "vehicle_kind": "motorbike",
            "detected_at": (timezone.now() - timedelta(hours=2)).replace(microsecond=0).isoformat(),
            "commune_code": HOAN_KIEM, "latitude": "21.0288", "longitude": "105.8521", "violation_code": "M07-04A",
            "measured_value": "14", "evidence": "img/a.jpg"}
    base.update(changes)
    return base


def run(path: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("traffic", "import-csv", path, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_reports_each_bad_row_and_is_idempotent(tmp_path, vehicles):
    path = write_csv(tmp_path, [
        row(), row(plate="88C-999.99", device_id="PATROL-8"),
        row(violation_code="ZZZ", device_id="X1"), row(detected_at="yesterday", device_id="X2"),
        row(evidence="img/fake.jpg", device_id="X3"), row(evidence="../../etc/passwd", device_id="X4"),
        row(detected_at=(timezone.now() + timedelta(days=1)).isoformat(), device_id="X5"),
    ])
    out, err = run(path)
    assert "created=2 manual=1 duplicates=0 errors=5" in out
    for line in (4, 5, 6, 7, 8):
        assert f"line {line}:" in err
    assert "unknown_violation" in err and "invalid_evidence" in err
    assert Detection.objects.count() == 2 and EvidenceImage.objects.count() == 2
    out, _err = run(path)
    assert "created=0 manual=0 duplicates=2" in out and Detection.objects.count() == 2


def test_file_without_the_columns_is_refused(tmp_path, db):
    path = tmp_path / "bad.csv"
    path.write_text("plate,when\n30A-123.45,now\n", encoding="utf-8")
    with pytest.raises(CommandError):
        run(str(path))
    assert not Detection.objects.exists()
