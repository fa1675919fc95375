"""The camera seam: a picamera2-shaped interface that every backend implements."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from device.camera.identity import CameraIdentity
from device.vision.types import Image


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame: `rgb` is HxWx3 uint8 in RGB order (never BGR), kept in memory only;
    `lores`, when the backend has one (picamera2's lores stream), a smaller RGB copy of the same
    view that the tracker's face detection uses."""

    rgb: Image
    sequence: int
    timestamp_s: float
    metadata: Mapping[str, Any] = field(default_factory=dict)
    lores: Image | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """What to configure, as plain data (mirrors picamera2's create_*_configuration)."""

    width: int = 640
    height: int = 480
    fps: float = 15.0
    lores_width: int = 0  # picamera2's lores stream for detection (0: none); height by aspect


class Camera(Protocol):
    """Lifecycle mirrors picamera2: configure, start, capture (context manager), stop, close."""

    def configure(self, config: CameraConfig) -> None: ...

    def start(self) -> None: ...

    def capture(self, timeout_s: float) -> AbstractContextManager[Frame]:
        """Wait up to timeout_s for the next frame; raise CameraError on timeout or loss."""
        ...

    def stop(self) -> None: ...

    def close(self) -> None: ...

    def status(self) -> dict[str, Any]: ...

    def identity(self) -> CameraIdentity:
        """Which physical (or simulated) camera this is; valid after start()."""
        ...
