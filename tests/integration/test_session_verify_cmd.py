"""`faceterm enroll` then `faceterm verify` through the simulators: the card-reader simulator
speaking the real protocol on a pseudo-terminal, and image folders decoded like the replay
camera. Prints the decision record as JSON."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from device.cli import main

REPO = Path(__file__).resolve().parents[2]
ID = "11010519491231002X"


def printed_json(out: str) -> dict:
    """The JSON document at the end of stdout (log lines may come before it)."""
    start = 0 if out.startswith("{") else out.index("\n{") + 1
    return json.loads(out[start:])


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture
def setup(tmp_path):
    config = tmp_path / "faceterm.toml"
    config.write_text(
        f'[device]\nid = "kiosk-cli"\nstate_dir = "{tmp_path / "state"}"\n'
        f'[vision]\nmodels_dir = "{REPO / "models"}"\n'
        "[session]\nidentify_timeout_s = 3.0\ncapture_timeout_s = 5.0\nmatch_threshold = 0.3795\n"
        "[liveness]\nenabled = false\n",
        encoding="utf-8",
    )
    card = {
        "name": "测试",
        "birth_date": "19491231",
        "id_number": ID,
        "valid_from": "20200101",
        "valid_until": "长期",
    }
    script = tmp_path / "card.json"
    script.write_text(json.dumps({"repeat": True, "steps": [{"card": card, "present_s": 60}]}))
    face = np.ascontiguousarray(data.astronaut()[0:250, 100:350])
    photo = write_rgb(tmp_path / "enrol.png", face)
    return tmp_path, config, script, photo, face


def test_enroll_then_verify_prints_a_pass_record(setup, capsys):
    tmp_path, config, script, photo, face = setup
    assert main(["--config", str(config), "enroll", "--id", ID, "--image", str(photo)]) == 0
    assert "1101**********002X" in capsys.readouterr().out
    db = tmp_path / "state" / "templates.sqlite3"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    camera = tmp_path / "camera"
    camera.mkdir()
    write_rgb(camera / "frame.png", np.clip(face.astype(np.int16) - 10, 0, 255).astype(np.uint8))
    args = ["--config", str(config), "verify", "--card-sim", str(script), "--camera", str(camera)]
    assert main([*args, "--loop"]) == 0
    record = printed_json(capsys.readouterr().out)
    assert record["decision"] == "pass" and record["device_id"] == "kiosk-cli"
    assert ID not in json.dumps(record)


def test_verify_of_a_faceless_stream_prints_a_timeout(setup, capsys):
    tmp_path, config, script, photo, _ = setup
    assert main(["--config", str(config), "enroll", "--id", ID, "--image", str(photo)]) == 0
    capsys.readouterr()
    camera = write_rgb(tmp_path / "coffee.png", data.coffee())
    args = ["--config", str(config), "verify", "--card-sim", str(script), "--camera", str(camera)]
    assert main(args) == 0
    record = printed_json(capsys.readouterr().out)
    assert (record["decision"], record["reasons"]) == ("timeout", ["identify_timeout", "no_face"])


def test_revoke_removes_the_reference(setup, capsys):
    _, config, _, photo, _ = setup
    base = ["--config", str(config), "enroll", "--id", ID]
    assert main([*base, "--image", str(photo)]) == 0
    assert main([*base, "--revoke"]) == 0
    assert main([*base, "--revoke"]) == 1
    assert "no reference stored" in capsys.readouterr().out
