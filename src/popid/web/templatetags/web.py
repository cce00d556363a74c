"""Display filters for console templates: codes by name, partial birth dates, finding titles."""

from __future__ import annotations

from typing import Any

from django import template

from popid.core import admin_units, formatting
from popid.registry import display
from popid.registry.models import Person

register = template.Library()


@register.filter
def commune_label(code: str | None) -> str:
    return admin_units.commune_label(code)


@register.filter
def birth_date_label(person: Person) -> str:
    return display.birth_date_label(person)


@register.filter
def value_label(value: Any, field: str) -> str:
    return display.value_label(field, value)


@register.filter
def kind_title(code: str) -> str:
    return display.kind_title(code)


@register.filter
def principle_label(code: str) -> str:
    return display.principle_label(code)


@register.filter
def severity_label(code: str) -> str:
    return display.severity_label(code)


# --- one set of formatting helpers for every page (core/formatting.py) ---------------------------
register.filter("date_vn", formatting.date_vn)  # dd/mm/yyyy whatever the language
register.filter("datetime_vn", formatting.datetime_vn)  # dd/mm/yyyy HH:MM, Vietnam's time
register.filter("money", formatting.money)  # 7.000 ₫
register.filter("number", formatting.number)  # 1.234,5 (vi) / 1,234.5 (en)
register.filter("country", formatting.country)  # VN → Việt Nam
register.filter("login_level", formatting.login_level)  # level-2 → Mức độ 2 (hai yếu tố)
register.filter("device", formatting.device)  # User-Agent → Chrome 126 · Android 14


@register.inclusion_tag("web/_chart.html")
def bar_chart(chart: Any, title: str) -> dict[str, Any]:
    return {"chart": chart, "title": title}
