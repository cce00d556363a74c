"""CSV import of detections (patrol devices and cameras that export files instead of calling
the API). One row per detection, header:

``device_id,plate,vehicle_kind,detected_at,commune_code,latitude,longitude,violation_code,measured_value,evidence``

``detected_at`` is ISO 8601 with a time zone; ``evidence`` lists image files (``;``-separated)
relative to the CSV file's folder. Every row goes through ``services.ingest_detection`` exactly
like an API call (same checks, same idempotency), so importing a file twice adds nothing; a bad
row is reported with its line number and changes nothing, the other rows still import."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from popid.core.errors import DomainError
from popid.traffic import services
from popid.traffic.errors import InvalidEvidence

COLUMNS = ["device_id", "plate", "vehicle_kind", "detected_at", "commune_code", "latitude", "longitude",
           "violation_code", "measured_value", "evidence"]
MAX_ROWS = 100_000


@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    manual: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _row_error(exc: DomainError) -> str:
    details = [f"{e.get('field')}: {e.get('message')}" for e in exc.errors()]
    return f"{exc.code}: " + ("; ".join(details) if details else str(exc.detail or exc.title))


def _images(folder: Path, spec: str) -> list[services.IncomingImage]:
    images = []
    for name in [s.strip() for s in (spec or "").split(";") if s.strip()]:
        path = (folder / name).resolve()
        if folder.resolve() not in path.parents:
            raise InvalidEvidence(f"{name}: outside the CSV folder", field="evidence")
        if not path.is_file():
            raise InvalidEvidence(f"{name}: no such file", field="evidence")
        if path.stat().st_size > services.MAX_IMAGE_BYTES:
            raise InvalidEvidence(f"{name}: too large", field="evidence")
        images.append(services.IncomingImage(name=name, content=path.read_bytes()))
    return images


def import_csv(path: Path, *, source: str = "") -> ImportReport:
    report = ImportReport()
    source = source or f"csv:{path.name}"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            report.errors.append((1, f"missing columns: {', '.join(missing)}"))
            return report
        for line, row in enumerate(reader, start=2):
            if line > MAX_ROWS + 1:
                report.errors.append((line, f"more than {MAX_ROWS} rows: the rest is not imported"))
                break
            try:
                try:
                    detected_at = datetime.fromisoformat((row["detected_at"] or "").strip())
                except ValueError:
                    report.errors.append((line, "detected_at: not an ISO 8601 date-time"))
                    continue
                data = services.IncomingDetection(
                    device_id=row["device_id"] or "", plate=row["plate"] or "", vehicle_kind=row["vehicle_kind"] or "",
                    detected_at=detected_at, commune_code=(row["commune_code"] or "").strip(),
                    latitude=row["latitude"] or "", longitude=row["longitude"] or "",
                    violation_code=row["violation_code"] or "", measured_value=(row["measured_value"] or None),
                    images=_images(path.parent, row["evidence"] or ""))
                detection, created = services.ingest_detection(source=source, data=data)
            except DomainError as exc:
                report.errors.append((line, _row_error(exc)))
                continue
            if not created:
                report.duplicates += 1
            else:
                report.created += 1
                report.manual += detection.state == "manual"
    return report
