"""The daemon with the simulated reader and the replay camera: reads a card (masked in the log),
receives frames, and stops cleanly on SIGINT/SIGTERM or after --duration."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.cards import card_fields
from tests.support.kiosk import kiosk_config

CARD = card_fields(name="张测试", birth_date="19500101", address="测试地址",
                   id_number="110101195001010017", authority="测试分局", valid_from="20100101")


@pytest.fixture()
def config_file(tmp_path: Path) -> Path:
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "a.png"), np.full((48, 64, 3), 128, np.uint8))
    script = tmp_path / "cards.json"
    script.write_text(json.dumps({"repeat": True, "steps": [{"absent_s": 0.3},
                                                             {"card": CARD, "present_s": 30}]}))
    return kiosk_config(tmp_path, "kiosk-test", {
        "cardreader": {"type": "sim", "sim_script": str(script)},
        "camera": {"type": "replay", "replay_path": str(frames), "fps": 20.0},
    })


def start(config: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "device", "--config", str(config), "run", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def test_runs_for_a_duration_reads_the_card_masked_and_counts_frames(config_file: Path) -> None:
    proc = start(config_file, "--duration", "6")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "card 1101**********0017 read" in out
    assert "110101195001010017" not in out
    assert "frames arriving:" in out
    assert "faceterm stopped" in out


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_cleanly(config_file: Path, signum: signal.Signals) -> None:
    proc = start(config_file)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    for line in proc.stdout:
        if "ready" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "faceterm stopped" in out


def test_refuses_to_start_on_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "faceterm.toml"
    config.write_text('[camera]\ntype = "replay"\nfps = "fast"\n')
    proc = start(config, "--duration", "1")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert f"{config}:3: camera.fps:" in out
