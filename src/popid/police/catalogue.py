"""The catalogue of report categories and handling outcomes, kept as data (catalogue.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PATH = Path(__file__).with_name("catalogue.yaml")


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    legal_ref: str


@dataclass(frozen=True)
class Outcome:
    code: str
    name: str
    legal_ref: str
    closes: bool


@cache
def _load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    for key in ("categories", "outcomes"):
        codes = [item["code"] for item in data[key]]
        if len(codes) != len(set(codes)):
            raise ValueError(f"{PATH}: duplicate {key} code")
    return data


def categories() -> dict[str, Category]:
    return {c["code"]: Category(code=c["code"], name=c["name"], legal_ref=c["legal_ref"])
            for c in _load()["categories"]}


def outcomes() -> dict[str, Outcome]:
    return {o["code"]: Outcome(code=o["code"], name=o["name"], legal_ref=o["legal_ref"], closes=bool(o["closes"]))
            for o in _load()["outcomes"]}
