"""`make run`'s demo end to end in a fresh state directory: four visitors, each decision as
expected and verified by the bureau's receiver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.broker


def test_demo_serves_four_visitors_as_expected(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "device.demo.run", "--state", str(tmp_path / "demo-state")],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "4 visitors, all as expected" in result.stdout
    rows = [line for line in result.stdout.splitlines() if " yes seq " in line]
    assert len(rows) == 4
    decisions = [line.split()[-1] for line in rows if line.endswith(("threshold", "removed"))]
    assert decisions == ["match_below_threshold", "card_removed"]
    assert "110101195806010153" not in result.stdout + result.stderr  # masked everywhere
