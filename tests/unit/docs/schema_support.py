"""Shared helpers of the docs/schemas tests: load the schemas, validate an instance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import referencing

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "docs" / "schemas"
ID_NUMBER = "11010519491231002X"
NAME = "张三"
DEVICE = "kiosk-07"
NOW = 1_800_000_000.0
Schemas = dict[str, dict[str, Any]]


def load_all() -> Schemas:
    files = sorted(SCHEMAS.glob("*.json"))
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in files}


def make_registry(schemas: Schemas) -> Any:
    resources = [(s["$id"], referencing.Resource.from_contents(s)) for s in schemas.values()]
    return referencing.Registry().with_resources(resources)


def check(schemas: Schemas, registry: Any, name: str, instance: Any) -> None:
    """Assert that instance validates against schema file `name`, listing every error."""
    validator = jsonschema.Draft202012Validator(schemas[name], registry=registry)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(
        f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors
    )


def refused(schemas: Schemas, registry: Any, name: str, instance: Any) -> bool:
    validator = jsonschema.Draft202012Validator(schemas[name], registry=registry)
    return not validator.is_valid(instance)
