"""The Raspberry Pi camera through picamera2 (from apt on Raspberry Pi OS; imported lazily)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from device.camera.base import CameraConfig, Frame
from device.camera.identity import UNCHECKED, CameraIdentity, csi_identity
from device.errors import CameraError
from device.vision.types import Image


def lores_size(config: CameraConfig) -> tuple[int, int] | None:
    """(width, height) of the lores stream: lores_width wide, the main stream's aspect, both
    even (YUV420 halves the chroma planes); None without one or if it would not be smaller."""
    width = config.lores_width - config.lores_width % 2
    if width <= 0 or width >= config.width:
        return None
    height = round(config.height * width / config.width)
    return width, height - height % 2


def lores_rgb(yuv420: npt.NDArray[np.uint8]) -> Image:
    """picamera2's lores array (YUV420 planar: H*3/2 rows of W) as an HxWx3 RGB image."""
    return np.asarray(cv2.cvtColor(yuv420, cv2.COLOR_YUV2RGB_I420), dtype=np.uint8)


class PiCamera:
    """A thin adapter: picamera2's own lifecycle, frames as RGB with per-frame metadata."""

    def __init__(self) -> None:
        self._picam: Any = None
        self._config = CameraConfig()
        self._sequence = 0
        self._counters = {"frames": 0, "timeouts": 0}
        self._identity = UNCHECKED
        self._lores = False

    def configure(self, config: CameraConfig) -> None:
        self._config = config

    def start(self) -> None:
        try:
            from picamera2 import Picamera2  # Raspberry Pi OS: apt install python3-picamera2
        except ImportError as exc:
            raise CameraError("picamera2 is not installed (apt install python3-picamera2)") from exc
        try:
            self._picam = Picamera2()
            self._identity = csi_identity(self._picam.camera_properties)
            frame_us = int(1_000_000 / self._config.fps)
            # picamera2's "RGB888" is stored B, G, R in memory: converted below. The lores
            # stream (YUV420: the only lores format of a Pi 4's ISP) feeds face detection only.
            lores = lores_size(self._config)
            cfg = self._picam.create_video_configuration(
                main={"size": (self._config.width, self._config.height), "format": "RGB888"},
                lores={"size": lores, "format": "YUV420"} if lores else None,
                controls={"FrameDurationLimits": (frame_us, frame_us)},
            )
            self._lores = lores is not None
            self._picam.configure(cfg)
            self._picam.start()
        except (RuntimeError, OSError) as exc:
            raise CameraError(f"cannot start the Raspberry Pi camera: {exc}") from exc

    @contextmanager
    def capture(self, timeout_s: float) -> Iterator[Frame]:
        if self._picam is None:
            raise CameraError("capture() before start()")
        job = self._picam.capture_request(wait=False)
        try:
            request = self._picam.wait(job, timeout=timeout_s)
        except TimeoutError as exc:
            self._counters["timeouts"] += 1
            raise CameraError(f"no frame within {timeout_s:.1f} s") from exc
        try:
            bgr = request.make_array("main")
            yuv = request.make_array("lores") if self._lores else None
            metadata = dict(request.get_metadata())
        finally:
            request.release()  # the buffer goes back to libcamera before anyone uses the frame
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        self._sequence += 1
        self._counters["frames"] += 1
        now = time.monotonic()
        lores = lores_rgb(yuv) if yuv is not None else None
        yield Frame(rgb=rgb, sequence=self._sequence, timestamp_s=now, metadata=metadata,
                    lores=lores)

    def stop(self) -> None:
        if self._picam is not None:
            self._picam.stop()

    def close(self) -> None:
        if self._picam is not None:
            self._picam.close()
            self._picam = None

    def status(self) -> dict[str, Any]:
        return {"type": "picamera2", **self._counters}

    def identity(self) -> CameraIdentity:
        return self._identity
