"""Camera backends behind one interface, chosen by `camera.type`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from device.camera.base import Camera, CameraConfig
from device.camera.identity import CameraPin
from device.camera.picam import PiCamera
from device.camera.replay import ReplayCamera
from device.camera.settings import CameraSettings
from device.camera.v4l2 import V4l2Camera
from device.errors import ConfigError


def _replay(settings: CameraSettings) -> Camera:
    if not settings.replay_path:
        raise ConfigError("camera.replay_path: required when camera.type = 'replay'")
    path = Path(settings.replay_path)
    return ReplayCamera(path, settings.replay_loop, None, settings.frame_queue_size)


BACKENDS: dict[str, Callable[[CameraSettings], Camera]] = {
    "picamera2": lambda settings: PiCamera(),
    "v4l2": lambda settings: V4l2Camera(settings.device, Path(settings.sysfs_root)),
    "replay": _replay,
}


def camera_pin(settings: CameraSettings) -> CameraPin:
    return CameraPin(settings.pin_usb_id, settings.pin_serial, settings.pin_sensor)


def open_camera(settings: CameraSettings) -> Camera:
    """Build and configure the backend named by settings.type (not started)."""
    camera = BACKENDS[settings.type](settings)
    camera.configure(
        CameraConfig(settings.width, settings.height, settings.fps, settings.lores_width)
    )
    return camera
