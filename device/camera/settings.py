"""Configuration of the camera (section [camera])."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from device.settings_base import Section


class CameraSettings(Section):
    type: Literal["picamera2", "v4l2", "replay"] = "picamera2"
    device: str = "/dev/video0"
    width: int = Field(640, ge=64, le=4096)
    height: int = Field(480, ge=48, le=4096)
    fps: float = Field(15.0, gt=0, le=120)
    replay_path: str = ""
    replay_loop: bool = True
    capture_timeout_s: float = Field(2.0, gt=0, le=60)
    frame_queue_size: int = Field(4, ge=1, le=64)
