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
    # picamera2 only: width of the lores stream the face detector reads (0: detect on the main
    # stream); its height follows the main stream's aspect. BlazeFace sees 128x128 anyway.
    lores_width: int = Field(320, ge=0, le=1024)
    replay_path: str = ""
    replay_loop: bool = True
    capture_timeout_s: float = Field(2.0, gt=0, le=60)
    frame_queue_size: int = Field(4, ge=1, le=64)
    # The pinned camera (empty: not checked). USB vendor:product and serial as sysfs shows
    # them (/sys/class/video4linux/videoN/device/../idVendor, idProduct, serial); for a CSI
    # camera the sensor model picamera2 reports in camera_properties["Model"] (e.g. imx708).
    # A loopback/virtual V4L2 driver is always refused, and so is any camera other than the one
    # seen when the kiosk started.
    pin_usb_id: str = Field("", pattern=r"^([0-9a-fA-F]{4}:[0-9a-fA-F]{4})?$")
    pin_serial: str = Field("", max_length=128)
    pin_sensor: str = Field("", max_length=64)
    sysfs_root: str = "/sys"
