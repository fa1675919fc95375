"""The composition root keeps an injected camera when the camera section changes."""

from __future__ import annotations

from pathlib import Path

from device.camera.replay import ReplayCamera
from device.compose import Kiosk, changed_sections
from device.config import load
from tests.support.kiosk import kiosk_config

REPO = Path(__file__).resolve().parents[3]


def test_camera_change_reconfigures_the_injected_camera(tmp_path: Path) -> None:
    path = kiosk_config(tmp_path, "kiosk-compose", {
        "camera": {"type": "v4l2", "device": "/dev/video-none", "width": 320, "height": 240},
        "ui": {"enabled": False},
    })
    config = load(path)
    injected = ReplayCamera(REPO / "models" / "golden")
    kiosk = Kiosk(config, path, camera=injected)
    camera = config.camera.model_copy(update={"fps": 4.0})
    changed = config.model_copy(update={"camera": camera})
    assert changed_sections(config, changed) == {"camera"}
    pump = kiosk.camera_pump(changed)  # a rebuilt v4l2 camera would find no /dev/video-none
    pump.start()
    try:
        assert pump.wait_for_frame(10.0)
        assert pump.status()["type"] == "replay"
    finally:
        pump.stop()
