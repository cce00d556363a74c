"""Every schema in the OpenAPI document is one Python model: django-ninja names components after
their class, so two apps' ``SearchOut`` would silently share one component and one of them would
be documented (and validated by clients) with the other's fields."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict

from pydantic import BaseModel

import popid
from popid.api import api


def _models_by_name() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for info in pkgutil.walk_packages(popid.__path__, "popid."):
        leaf = info.name.rsplit(".", 1)[-1]
        if not (leaf in {"api", "schemas"} or leaf.endswith("_api")) or ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__ == module.__name__:
                found[name].add(f"{module.__name__}.{name}")
    return found


def test_no_two_models_share_an_openapi_component_name():
    components = set(api.get_openapi_schema()["components"]["schemas"])
    clashes = {name: sorted(where) for name, where in _models_by_name().items()
               if name in components and len(where) > 1}
    assert not clashes, f"rename so each component is one model: {clashes}"
