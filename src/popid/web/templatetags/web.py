"""Display filters for console templates: codes by name, partial birth dates, finding titles."""

from __future__ import annotations

from typing import Any

from django import template

from popid.core import admin_units
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


@register.filter
def date_vn(value: Any) -> str:
    """dd/mm/yyyy whatever the active language: the format on Vietnamese documents."""
    return value.strftime("%d/%m/%Y") if value else "—"


@register.inclusion_tag("web/_chart.html")
def bar_chart(chart: Any, title: str) -> dict[str, Any]:
    return {"chart": chart, "title": title}
