"""Field types for API schemas whose OpenAPI bounds say exactly what the domain accepts.

A request that is valid by the published schema should not be refused for its shape; so the
rules the services apply to single fields are stated here as patterns and code lists, and
``core.openapi`` publishes the large code lists once, as components:

- ``CommuneCode`` / ``OptionalCommuneCode``: a current commune (``admin_units.communes()``;
  abolished pre-2025 codes are refused as they are by the commands);
- ``ProvinceCode`` / ``OptionalProvinceCode``: a current province (34 codes);
- ``NonBlank(max)``: text with at least one non-space character (reasons, legal references);
- ``PersonName(max)``: a person's name: not blank, no decimal digit;
- ``IsoDate``: a calendar date written YYYY-MM-DD, as the schema's ``format: date`` says (pydantic
  alone would also take "0" as 1970-01-01);
- ``ID_NUMBER_LOOKUP``: what a lookup accepts (a 12-digit number, or a shorter all-digit one
  that may resolve through a cancelled number).

Every text also refuses NUL (``core.middleware.ApiProblemMiddleware``), so the patterns exclude it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

NUL_FREE = "[^\\x00]"
NON_BLANK_PATTERN = f"^{NUL_FREE}*[^\\s\\x00]{NUL_FREE}*$"
# ``registry.validation.require_name`` refuses any character for which ``str.isdigit()`` holds:
# decimal digits (\\d) and the other digits (superscripts, circled digits, …), listed here.
OTHER_DIGITS = "".join(chr(c) for c in range(0x110000) if chr(c).isdigit() and not chr(c).isdecimal())
PERSON_NAME_PATTERN = f"^[^\\d\\x00{OTHER_DIGITS}]*[^\\d\\s\\x00{OTHER_DIGITS}][^\\d\\x00{OTHER_DIGITS}]*$"
ID_NUMBER_LOOKUP = r"^[0-9]{1,12}$"
CODE_LIST_KEY = "x-popid-code-list"  # replaced by a $ref to the code list component in core.openapi


def _code(kind: str, pattern: str, *, blank: bool) -> Any:
    """A code validated by the service against the live list and published as that list."""
    marker = {"type": "string", CODE_LIST_KEY: kind + ("_or_blank" if blank else "")}
    return Annotated[str, Field(pattern=f"^(?:{pattern})?$" if blank else f"^{pattern}$"),
                     WithJsonSchema(marker)]


CommuneCode = _code("commune", r"\d{5}", blank=False)
OptionalCommuneCode = _code("commune", r"\d{5}", blank=True)
ProvinceCode = _code("province", r"\d{2}", blank=False)
OptionalProvinceCode = _code("province", r"\d{2}", blank=True)


def enum_schema(values: Iterable[object]) -> WithJsonSchema:
    """The published schema of a closed list: ``Annotated[str, enum_schema(values)]`` is a type
    checkers accept as an alias (``OneOf(values)`` is the same type built by a call)."""
    return WithJsonSchema({"type": "string", "enum": [str(v) for v in values]})


def OneOf(values: Any) -> Any:
    """A text the service checks against a closed list (its own ``invalid_choice`` error), published
    as that list."""
    return Annotated[str, enum_schema(values)]


def NonBlank(max_length: int, **kwargs: Any) -> Any:
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=NON_BLANK_PATTERN, **kwargs)]


def PersonName(max_length: int = 150, min_length: int = 1, **kwargs: Any) -> Any:
    return Annotated[str, Field(min_length=min_length, max_length=max_length, pattern=PERSON_NAME_PATTERN,
                                **kwargs)]


def exact_pattern(codes: list[str]) -> str:
    """A regular expression matching exactly these equal-length digit codes, as a digit trie
    (3,321 commune codes become a few kilobytes; an ``enum`` that long makes every generator
    walk it value by value)."""
    trie: dict[str, Any] = {}
    for code in codes:
        node = trie
        for ch in code:
            node = node.setdefault(ch, {})

    def render(node: dict[str, Any]) -> str:
        if not node:
            return ""
        if all(not child for child in node.values()):
            return _digit_class(sorted(node))
        parts = [ch + render(child) for ch, child in sorted(node.items())]
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"

    return "^" + render(trie) + "$"


def _digit_class(digits: list[str]) -> str:
    if len(digits) == 1:
        return digits[0]
    runs: list[list[str]] = []
    for d in digits:
        if runs and int(d) == int(runs[-1][-1]) + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    body = "".join(r[0] if len(r) == 1 else f"{r[0]}{r[-1]}" if len(r) == 2 else f"{r[0]}-{r[-1]}" for r in runs)
    return f"[{body}]"


def OptionalPersonName(max_length: int = 150, **kwargs: Any) -> Any:  # a name, or "" for none
    return Annotated[str, Field(max_length=max_length, pattern="^(?:" + PERSON_NAME_PATTERN[1:-1] + ")?$", **kwargs)]


def code_lists() -> dict[str, dict[str, Any]]:
    """The components the markers point at, built from the administrative-unit data in use."""
    from popid.core import admin_units

    communes = exact_pattern(sorted(admin_units.communes()))
    provinces = sorted(admin_units.provinces())
    return {
        "commune": {"title": "CommuneCode", "type": "string", "pattern": communes,
                    "description": "Mã xã/phường hiện hành (5 chữ số; biểu thức khớp đúng danh mục hiện hành)"},
        "commune_or_blank": {"title": "OptionalCommuneCode", "type": "string",
                             "pattern": "^(?:" + communes[1:-1] + ")?$",
                             "description": "Mã xã/phường hiện hành, hoặc rỗng (không lọc)"},
        "province": {"title": "ProvinceCode", "type": "string", "enum": provinces,
                     "description": "Mã tỉnh/thành phố hiện hành (2 chữ số)"},
        "province_or_blank": {"title": "OptionalProvinceCode", "type": "string", "enum": ["", *provinces],
                              "description": "Mã tỉnh/thành phố hiện hành, hoặc rỗng (không lọc)"},
    }


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    if isinstance(value, (int, float)):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
