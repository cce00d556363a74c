"""Generic CSV files for ``popid match dedupe`` and ``link``: reading, role mapping and the
checks that turn bad input into a clear error before anything is computed."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from popid.matching.errors import MatchInputError
from popid.matching.records import REPEATABLE_ROLES, ROLES, BuildStats, record_from_row

MAX_SNIFF = 64 * 1024


@dataclass
class LoadedFile:
    path: Path
    records: list[dict[str, Any]]
    stats: BuildStats


def parse_field_options(options: Sequence[str]) -> dict[str, list[str]]:
    """``ROLE=COLUMN`` options → role → columns; unknown or repeated roles are refused."""
    mapping: dict[str, list[str]] = {}
    for option in options:
        role, sep, column = option.partition("=")
        role, column = role.strip(), column.strip()
        if not sep or not role or not column:
            raise MatchInputError(_("--field phải có dạng VAI_TRÒ=CỘT, nhận được %(value)r") % {"value": option},
                                  field="field")
        if role not in ROLES:
            raise MatchInputError(_("Vai trò không xác định %(role)r; các vai trò: %(roles)s")
                                  % {"role": role, "roles": ", ".join(ROLES)}, field="field")
        if role in mapping and role not in REPEATABLE_ROLES:
            raise MatchInputError(_("Vai trò %(role)s được khai báo hai lần") % {"role": role}, field="field")
        mapping.setdefault(role, []).append(column)
    if not mapping:
        raise MatchInputError(_("Cần ít nhất một --field VAI_TRÒ=CỘT"), field="field")
    return mapping


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MatchInputError(_("Không đọc được tệp %(path)s") % {"path": path}, field="file") from exc
    if not raw.strip():
        raise MatchInputError(_("Tệp %(path)s rỗng") % {"path": path}, field="file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MatchInputError(
            _("Tệp %(path)s không phải UTF-8 (byte lỗi ở vị trí %(pos)d); hãy lưu lại dưới dạng UTF-8")
            % {"path": path, "pos": exc.start}, field="file") from exc


def _dialect(text: str, path: Path) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:MAX_SNIFF], delimiters=",;\t|")
    except csv.Error as exc:
        raise MatchInputError(_("Không nhận ra dấu phân cách cột của %(path)s (hỗ trợ , ; tab |)")
                              % {"path": path}, field="file") from exc


def load_csv(path: Path, *, id_column: str, mapping: dict[str, list[str]]) -> LoadedFile:
    text = _read_text(path)
    reader = csv.DictReader(text.splitlines(), dialect=_dialect(text, path))
    header = reader.fieldnames or []
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise MatchInputError(_("Tệp %(path)s có cột trùng tên: %(cols)s")
                              % {"path": path, "cols": ", ".join(duplicated)}, field="file")
    wanted = [id_column, *(c for cols in mapping.values() for c in cols)]
    missing = [c for c in dict.fromkeys(wanted) if c not in header]
    if missing:
        raise MatchInputError(_("Tệp %(path)s thiếu cột: %(cols)s (có: %(header)s)")
                              % {"path": path, "cols": ", ".join(missing), "header": ", ".join(header)}, field="file")
    stats = BuildStats()
    records, seen = [], set()
    for number, row in enumerate(reader, start=2):
        unique_id = (row.get(id_column) or "").strip()
        if not unique_id:
            raise MatchInputError(_("Dòng %(n)d của %(path)s không có mã ở cột %(col)s")
                                  % {"n": number, "path": path, "col": id_column}, field="id")
        if unique_id in seen:
            raise MatchInputError(_("Mã %(id)s lặp lại ở dòng %(n)d của %(path)s")
                                  % {"id": unique_id, "n": number, "path": path}, field="id")
        seen.add(unique_id)
        records.append(record_from_row(row, unique_id=unique_id, mapping=mapping, stats=stats, row_number=number))
    if not records:
        raise MatchInputError(_("Tệp %(path)s chỉ có dòng tiêu đề") % {"path": path}, field="file")
    return LoadedFile(path=path, records=records, stats=stats)
