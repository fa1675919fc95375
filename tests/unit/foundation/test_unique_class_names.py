"""One name per thing: no two classes in device/ share a name (issue 13)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

DEVICE = Path(__file__).resolve().parents[3] / "device"


def class_names() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(DEVICE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found[node.name].append(str(path.relative_to(DEVICE.parent)))
    return found


def test_the_walk_sees_the_package() -> None:
    names = class_names()
    assert "SessionRunner" in names and "CoreHandler" in names


def test_every_class_name_in_the_package_is_unique() -> None:
    shared = {name: where for name, where in class_names().items() if len(where) > 1}
    assert shared == {}, f"class names defined more than once: {shared}"
