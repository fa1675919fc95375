"""`faceterm selftest` passes on a healthy simulated kiosk and fails on a tampered model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "device", "--config", str(config), "selftest",
                           "--json"], capture_output=True, text=True, timeout=120)


def write_config(tmp_path: Path, models: Path) -> Path:
    config = tmp_path / "faceterm.toml"
    config.write_text(
        f'[device]\nstate_dir = "{tmp_path / "state"}"\n'
        f'[vision]\nmodels_dir = "{models}"\n'
        '[cardreader]\ntype = "sim"\n'
        f'[camera]\ntype = "replay"\nreplay_path = "{REPO / "models" / "golden"}"\n')
    return config


def test_healthy_kiosk_passes_every_check(tmp_path: Path) -> None:
    result = run(write_config(tmp_path, REPO / "models"))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    names = {c["name"]: c for c in report["checks"]}
    assert set(names) == {"models", "clock", "disk", "camera", "cardreader", "antispoof"}
    assert "antispoof_minifasnet@" in names["antispoof"]["detail"]
    assert "active" in names["antispoof"]["detail"]
    assert "simulator replay" in names["camera"]["detail"]


def test_tampered_model_fails_the_selftest(tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    data = bytearray((models / "sface_fp16.tflite").read_bytes())
    data[-100] ^= 0x01
    (models / "sface_fp16.tflite").write_bytes(bytes(data))
    result = run(write_config(tmp_path, models))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["models"]
    assert "sha256" in failed[0]["detail"]
