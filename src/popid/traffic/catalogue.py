"""The violation catalogue as data (``violations.yaml``, Decree 168/2024/NĐ-CP): loaded and
validated once; a broken file raises ``CatalogueError`` naming the entry and the key, so a bad
edit fails at startup and in the tests instead of producing wrong fines."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_FILE = Path(__file__).parent / "violations.yaml"
VEHICLE_KINDS = ("car", "motorbike")
MEASURES = ("none", "speed_over_kmh", "breath_alcohol_mg_l")
DECREE = "Nghị định 168/2024/NĐ-CP"
POINT_LETTERS = {"", "a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m", "n", "o", "p"}
REQUIRED = ("code", "vi", "en", "vehicle_kinds", "fine_min", "fine_max", "points", "suspension_months", "article",
            "clause", "point", "points_ref", "measured", "confirmed")


class CatalogueError(Exception):
    def __init__(self, source: str, key: str, message: str) -> None:
        super().__init__(f"{source}: {key}: {message}")
        self.source, self.key, self.message = source, key, message


@dataclass(frozen=True)
class Violation:
    code: str
    vi: str
    en: str
    vehicle_kinds: tuple[str, ...]
    fine_min: int
    fine_max: int
    points: int
    suspension_months: tuple[int, int]
    article: int
    clause: int
    point: str
    points_ref: str
    measured: str
    confirmed: bool
    note: str = ""

    @property
    def legal_ref(self) -> str:
        """e.g. "điểm c khoản 7 Điều 7 Nghị định 168/2024/NĐ-CP"."""
        head = f"điểm {self.point} " if self.point else ""
        return f"{head}khoản {self.clause} Điều {self.article} {DECREE}"

    def applies_to(self, vehicle_kind: str) -> bool:
        return vehicle_kind in self.vehicle_kinds


def _int(entry: dict[str, Any], key: str, source: str, *, minimum: int = 0) -> int:
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise CatalogueError(source, key, f"must be an integer >= {minimum}")
    return value


def _violation(entry: Any, source: str) -> Violation:
    if not isinstance(entry, dict):
        raise CatalogueError(source, "-", "each violation must be a mapping")
    source = f"{source}[{entry.get('code', '?')}]"
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise CatalogueError(source, missing[0], "missing")
    unknown = set(entry) - set(REQUIRED) - {"note"}
    if unknown:
        raise CatalogueError(source, sorted(unknown)[0], "unknown key")
    code = entry["code"]
    if not isinstance(code, str) or not code or len(code) > 12:
        raise CatalogueError(source, "code", "must be a string of 1-12 characters")
    for key in ("vi", "en"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise CatalogueError(source, key, "must be a non-empty string")
    kinds = entry["vehicle_kinds"]
    if not isinstance(kinds, list) or not kinds or set(kinds) - set(VEHICLE_KINDS):
        raise CatalogueError(source, "vehicle_kinds", f"must be a non-empty list of {', '.join(VEHICLE_KINDS)}")
    fine_min, fine_max = _int(entry, "fine_min", source, minimum=1), _int(entry, "fine_max", source, minimum=1)
    if fine_min > fine_max:
        raise CatalogueError(source, "fine_max", "must not be below fine_min")
    points = _int(entry, "points", source)
    if points > 12:
        raise CatalogueError(source, "points", "a licence has 12 points")
    suspension = entry["suspension_months"]
    if (not isinstance(suspension, list) or len(suspension) != 2
            or not all(isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in suspension)
            or suspension[0] > suspension[1]):
        raise CatalogueError(source, "suspension_months", "must be [min, max] months")
    if entry["point"] not in POINT_LETTERS:
        raise CatalogueError(source, "point", "must be a point letter of the decree or empty")
    if entry["measured"] not in MEASURES:
        raise CatalogueError(source, "measured", f"must be one of {', '.join(MEASURES)}")
    if not isinstance(entry["confirmed"], bool):
        raise CatalogueError(source, "confirmed", "must be true or false")
    note = str(entry.get("note") or "")
    if not entry["confirmed"] and not note:
        raise CatalogueError(source, "note", "an unconfirmed figure needs a note saying which one and why")
    if points and not str(entry["points_ref"]).strip():
        raise CatalogueError(source, "points_ref", "a deduction needs the clause that sets it")
    return Violation(code=code, vi=entry["vi"].strip(), en=entry["en"].strip(), vehicle_kinds=tuple(kinds),
                     fine_min=fine_min, fine_max=fine_max, points=points, suspension_months=(suspension[0],
                                                                                             suspension[1]),
                     article=_int(entry, "article", source, minimum=1), clause=_int(entry, "clause", source, minimum=1),
                     point=entry["point"], points_ref=str(entry["points_ref"]), measured=entry["measured"],
                     confirmed=entry["confirmed"], note=note)


def load(path: Path = CATALOGUE_FILE) -> dict[str, Violation]:
    source = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(source, "-", f"not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("violations"), list) or not raw["violations"]:
        raise CatalogueError(source, "violations", "must be a non-empty list")
    result: dict[str, Violation] = {}
    for entry in raw["violations"]:
        violation = _violation(entry, source)
        if violation.code in result:
            raise CatalogueError(source, "code", f"duplicate code {violation.code}")
        result[violation.code] = violation
    return result


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Violation]:
    return load()


def get_violation(code: str) -> Violation | None:
    return catalogue().get((code or "").strip().upper())
