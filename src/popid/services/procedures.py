"""Procedures as data: every ``procedures/*.yaml`` file defines one procedure. The loader validates
each definition at startup and raises ``ProcedureDefinitionError`` naming the file and the key, so a
new procedure is added by adding a file, never by writing a view.

Definition keys (see docs/services.md): code, name, legal_basis, who {level, guardian}, fee
{in_person, online} (VND), deadline_working_days, processing_unit (target_commune | permanent_residence),
fields [{name, type, required, label, prefill}], attachments [{kind, label, required, max_size_kb,
types}], command {name, args} (args map command parameters to ``data.X``, ``subject.X``,
``today`` or a literal) and optional submission_rule (stay_notification).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROCEDURE_DIR = Path(__file__).parent / "procedures"
FIELD_TYPES = {"string", "text", "date", "datetime", "commune", "id_number", "id_list", "integer"}
PREFILL_SOURCES = {"id_number", "full_name", "birth_date", "sex", "permanent_address", "permanent_commune_code",
                   "household_code", "phone"}
UNIT_RULES = {"target_commune", "permanent_residence"}
SUBMISSION_RULES = {"", "stay_notification"}
ALLOWED_TYPES = {"application/pdf", "image/jpeg", "image/png"}
# The registry commands an approval may run; keys are the names used in definitions.
COMMANDS = {"register_temporary_residence", "register_permanent_residence", "split_household",
            "change_current_residence", "declare_absence", "issue_passport"}
# Commands of other apps an approval may run (name → dotted path); the rest are registry commands.
EXTERNAL_COMMANDS = {"issue_passport": "popid.immigration.services.issue_passport"}


class ProcedureDefinitionError(Exception):
    def __init__(self, source: str, key: str, message: str) -> None:
        super().__init__(f"{source}: {key}: {message}")
        self.source, self.key, self.message = source, key, message


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    required: bool
    label: str
    prefill: str = ""


@dataclass(frozen=True)
class AttachmentDef:
    kind: str
    label: str
    required: bool
    max_size_kb: int
    types: tuple[str, ...]


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    legal_basis: str
    min_level: int
    guardian_allowed: bool
    fee_in_person: int
    fee_online: int
    deadline_working_days: int
    processing_unit: str
    fields: tuple[FieldDef, ...]
    attachments: tuple[AttachmentDef, ...]
    command: str = ""
    command_args: dict[str, Any] = field(default_factory=dict)
    submission_rule: str = ""
    source: str = ""

    def field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)

    def fee(self, channel: str) -> int:
        return self.fee_online if channel == "online" else self.fee_in_person


def _require(raw: dict[str, Any], key: str, kind: type | tuple[type, ...], source: str, *, prefix: str = "",
             default: Any = ..., ) -> Any:
    name = f"{prefix}{key}"
    if key not in raw:
        if default is ...:
            raise ProcedureDefinitionError(source, name, "missing")
        return default
    value = raw[key]
    if isinstance(value, bool) and kind in (int, (int,)):
        raise ProcedureDefinitionError(source, name, f"expected {getattr(kind, '__name__', kind)}, got bool")
    if not isinstance(value, kind):
        raise ProcedureDefinitionError(source, name, f"expected {getattr(kind, '__name__', kind)}, "
                                                     f"got {type(value).__name__}")
    return value


def parse_procedure(raw: Any, source: str) -> Procedure:
    if not isinstance(raw, dict):
        raise ProcedureDefinitionError(source, "(root)", "expected a mapping")
    known = {"code", "name", "legal_basis", "who", "fee", "deadline_working_days", "processing_unit", "fields",
             "attachments", "command", "submission_rule", "description"}
    for key in raw:
        if key not in known:
            raise ProcedureDefinitionError(source, str(key), "unknown key")
    code = _require(raw, "code", str, source)
    if not code.replace("_", "").isalnum():
        raise ProcedureDefinitionError(source, "code", "letters, digits and _ only")
    who = _require(raw, "who", dict, source)
    level = _require(who, "level", int, source, prefix="who.")
    if level not in (1, 2):
        raise ProcedureDefinitionError(source, "who.level", "must be 1 or 2")
    fee = _require(raw, "fee", dict, source)
    fees = {k: _require(fee, k, int, source, prefix="fee.") for k in ("in_person", "online")}
    if any(v < 0 for v in fees.values()):
        raise ProcedureDefinitionError(source, "fee", "must not be negative")
    deadline = _require(raw, "deadline_working_days", int, source)
    if deadline < 0:
        raise ProcedureDefinitionError(source, "deadline_working_days", "must not be negative")
    unit = _require(raw, "processing_unit", str, source)
    if unit not in UNIT_RULES:
        raise ProcedureDefinitionError(source, "processing_unit", f"one of {sorted(UNIT_RULES)}")
    fields: list[FieldDef] = []
    for i, item in enumerate(_require(raw, "fields", list, source)):
        p = f"fields[{i}]."
        if not isinstance(item, dict):
            raise ProcedureDefinitionError(source, f"fields[{i}]", "expected a mapping")
        ftype = _require(item, "type", str, source, prefix=p)
        if ftype not in FIELD_TYPES:
            raise ProcedureDefinitionError(source, p + "type", f"unknown type {ftype!r}; one of {sorted(FIELD_TYPES)}")
        prefill = _require(item, "prefill", str, source, prefix=p, default="")
        if prefill and prefill not in PREFILL_SOURCES:
            raise ProcedureDefinitionError(source, p + "prefill", f"unknown source {prefill!r}")
        fields.append(FieldDef(name=_require(item, "name", str, source, prefix=p), type=ftype,
                               required=_require(item, "required", bool, source, prefix=p, default=False),
                               label=_require(item, "label", str, source, prefix=p), prefill=prefill))
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ProcedureDefinitionError(source, "fields", "duplicate field name")
    if unit == "target_commune" and "commune_code" not in names:
        raise ProcedureDefinitionError(source, "processing_unit", "target_commune needs a commune_code field")
    attachments: list[AttachmentDef] = []
    for i, item in enumerate(_require(raw, "attachments", list, source, default=[])):
        p = f"attachments[{i}]."
        if not isinstance(item, dict):
            raise ProcedureDefinitionError(source, f"attachments[{i}]", "expected a mapping")
        types = _require(item, "types", list, source, prefix=p)
        bad = [t for t in types if t not in ALLOWED_TYPES]
        if bad or not types:
            raise ProcedureDefinitionError(source, p + "types", f"allowed: {sorted(ALLOWED_TYPES)}")
        max_kb = _require(item, "max_size_kb", int, source, prefix=p)
        if not 0 < max_kb <= 20 * 1024:
            raise ProcedureDefinitionError(source, p + "max_size_kb", "between 1 and 20480")
        attachments.append(AttachmentDef(kind=_require(item, "kind", str, source, prefix=p),
                                         label=_require(item, "label", str, source, prefix=p),
                                         required=_require(item, "required", bool, source, prefix=p, default=False),
                                         max_size_kb=max_kb, types=tuple(types)))
    command, args = "", {}
    if raw.get("command") is not None:
        spec = _require(raw, "command", dict, source)
        command = _require(spec, "name", str, source, prefix="command.")
        if command not in COMMANDS:
            raise ProcedureDefinitionError(source, "command.name", f"unknown registry command {command!r}")
        args = _require(spec, "args", dict, source, prefix="command.")
        for arg, value in args.items():
            if isinstance(value, str) and value.startswith("data.") and value[5:] not in names:
                raise ProcedureDefinitionError(source, f"command.args.{arg}", f"no field {value[5:]!r}")
    rule = _require(raw, "submission_rule", str, source, default="")
    if rule not in SUBMISSION_RULES:
        raise ProcedureDefinitionError(source, "submission_rule", f"one of {sorted(SUBMISSION_RULES)}")
    return Procedure(code=code, name=_require(raw, "name", str, source),
                     legal_basis=_require(raw, "legal_basis", str, source, default=""), min_level=level,
                     guardian_allowed=_require(who, "guardian", bool, source, prefix="who.", default=False),
                     fee_in_person=fees["in_person"], fee_online=fees["online"], deadline_working_days=deadline,
                     processing_unit=unit, fields=tuple(fields), attachments=tuple(attachments), command=command,
                     command_args=args, submission_rule=rule, source=source)


def load_file(path: Path) -> Procedure:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProcedureDefinitionError(path.name, "(yaml)", str(exc)) from exc
    return parse_procedure(raw, path.name)


def load_directory(directory: Path) -> dict[str, Procedure]:
    procedures: dict[str, Procedure] = {}
    for path in sorted(directory.glob("*.yaml")):
        procedure = load_file(path)
        if procedure.code in procedures:
            raise ProcedureDefinitionError(path.name, "code", f"duplicate code {procedure.code!r}")
        procedures[procedure.code] = procedure
    return procedures


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Procedure]:
    """Every procedure, by code, loaded once."""
    return load_directory(PROCEDURE_DIR)


def get_procedure(code: str) -> Procedure:
    from popid.services.errors import ProcedureNotFound

    try:
        return catalogue()[code]
    except KeyError:
        raise ProcedureNotFound(field="procedure") from None


# --- showing a dossier's data to people (issue #19 items 3–4) ------------------------------------
FILE_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


def shown_value(field_type: str, value: Any) -> str:
    """A form value as people read it: dates dd/mm/yyyy, communes by name, yes/no."""
    from django.utils.translation import gettext as _

    from popid.core import formatting

    if value is None or value == "":
        return formatting.DASH
    if isinstance(value, bool):
        return str(_("Có") if value else _("Không"))
    if field_type == "date":
        return formatting.date_vn(value)
    if field_type == "commune":
        return formatting.commune(str(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def data_rows(procedure: Procedure | None, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, shown value) for each field of a dossier's data, in the order stored."""
    fields = {f.name: f for f in procedure.fields} if procedure else {}
    rows = []
    for name, value in data.items():
        spec = fields.get(name)
        rows.append((spec.label if spec else name.replace("_", " "), shown_value(spec.type if spec else "", value)))
    return rows


def attachment_label(procedure: Procedure | None, kind: str) -> str:
    """The attachment's name in the procedure (``proof_of_residence`` → its label)."""
    for item in procedure.attachments if procedure else ():
        if item.kind == kind:
            return item.label
    return kind.replace("_", " ")


def file_type_label(content_type: str) -> str:
    return FILE_TYPES.get(content_type, content_type.split("/")[-1].upper() if content_type else "")
