"""Incremental export from the operational database into store tables.

Each source is read from its last exported primary key (the watermark) on, only the columns a
metric needs: a category code, the commune, the day (or the hour and H3 cell of a placed
event). No description, plate, account, person or officer leaves the operational database.
A row dated in the future (more than ``FUTURE_TOLERANCE`` after the refresh) is refused: not
counted, and recorded in the manifest by source and primary key so the data owner can fix it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import h3
import pyarrow as pa
from django.utils import timezone

from popid.analytics.schema import SCHEMAS
from popid.analytics.synthetic import H3_RESOLUTION
from popid.core import admin_units

FUTURE_TOLERANCE = timedelta(hours=1)
BATCH = 5000


@dataclass
class Export:
    daily: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    watermarks: dict[str, int] = field(default_factory=dict)
    future: list[dict[str, Any]] = field(default_factory=list)
    exported: dict[str, int] = field(default_factory=dict)

    def tables(self) -> tuple[pa.Table, pa.Table]:
        return (_aggregate_daily(self.daily), pa.Table.from_pylist(self.incidents, schema=SCHEMAS["incidents"]))


def _code(value: str) -> str:
    code = re.sub(r"[^a-z0-9_.-]", "-", (value or "").lower())[:40]
    return code if re.fullmatch(r"[a-z][a-z0-9_.-]{0,39}", code) else "other"


def _aggregate_daily(rows: list[dict[str, Any]]) -> pa.Table:
    totals: dict[tuple[Any, ...], int] = {}
    for r in rows:
        key = (r["category"], r["subcategory"], r["commune_code"], r["province_code"], r["day"])
        totals[key] = totals.get(key, 0) + 1
    return pa.Table.from_pylist(
        [{"category": k[0], "subcategory": k[1], "commune_code": k[2], "province_code": k[3], "day": k[4], "n": n,
          "source": "operational"} for k, n in sorted(totals.items())], schema=SCHEMAS["daily"])


def _cell(lat: Decimal | float | None, lon: Decimal | float | None) -> str | None:
    if lat is None or lon is None:
        return None
    try:
        return str(h3.latlng_to_cell(float(lat), float(lon), H3_RESOLUTION))
    except (ValueError, h3.H3BaseException):
        return None


def _place(commune_code: str) -> tuple[str, str] | None:
    if not re.fullmatch(r"[0-9]{5}", commune_code or ""):
        return None
    return commune_code, admin_units.province_of_commune(commune_code) or "00"


def _batches(queryset: Any, after: int) -> Iterable[list[dict[str, Any]]]:
    last = after
    while True:
        batch = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1]["id"]


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


def export(*, watermarks: dict[str, int], now: datetime | None = None) -> Export:
    from popid.police.models import Report
    from popid.services.models import Dossier
    from popid.traffic.models import Detection

    now = now or timezone.now()
    limit = now + FUTURE_TOLERANCE
    out = Export()

    def refuse(source: str, pk: int, at: datetime) -> None:
        out.future.append({"source": source, "id": pk, "at": at.isoformat()})

    sources: list[tuple[str, Any]] = [
        ("police.report", Report.objects.values("id", "category_code", "channel", "commune_code", "latitude",
                                                "longitude", "occurred_at", "received_at")),
        ("traffic.detection", Detection.objects.values("id", "violation_code", "commune_code", "latitude",
                                                       "longitude", "detected_at")),
        ("services.dossier", Dossier.objects.values("id", "procedure_code", "commune_code", "received_at")),
    ]
    for source, queryset in sources:
        mark = int(watermarks.get(source, 0))
        count = 0
        for batch in _batches(queryset, mark):
            for row in batch:
                mark = max(mark, row["id"])
                place = _place(row["commune_code"])
                if place is None:
                    continue
                commune, province = place
                if source == "police.report":
                    when = row["occurred_at"]
                    if when > limit or row["received_at"] > limit:
                        refuse(source, row["id"], max(when, row["received_at"]))
                        continue
                    sub = _code(row["category_code"])
                    out.daily.append({"category": "incident", "subcategory": sub, "commune_code": commune,
                                      "province_code": province, "day": _local(when).date()})
                    out.daily.append({"category": "report", "subcategory": _code(row["channel"]),
                                      "commune_code": commune, "province_code": province,
                                      "day": _local(row["received_at"]).date()})
                    cell = _cell(row["latitude"], row["longitude"])
                elif source == "traffic.detection":
                    when = row["detected_at"]
                    if when > limit:
                        refuse(source, row["id"], when)
                        continue
                    sub = _code(row["violation_code"])
                    out.daily.append({"category": "violation", "subcategory": sub, "commune_code": commune,
                                      "province_code": province, "day": _local(when).date()})
                    cell = _cell(row["latitude"], row["longitude"])
                else:
                    when = row["received_at"]
                    if when > limit:
                        refuse(source, row["id"], when)
                        continue
                    out.daily.append({"category": "dossier", "subcategory": _code(row["procedure_code"]),
                                      "commune_code": commune, "province_code": province,
                                      "day": _local(when).date()})
                    cell = None
                count += 1
                if cell is not None:
                    hour = _local(when).replace(minute=0, second=0, microsecond=0)
                    out.incidents.append({"category": "incident" if source == "police.report" else "violation",
                                          "subcategory": sub, "commune_code": commune, "province_code": province,
                                          "hour": hour, "h3": cell, "source": "operational"})
        out.watermarks[source] = mark
        out.exported[source] = count
    return out
