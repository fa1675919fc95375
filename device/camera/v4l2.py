"""USB (UVC) cameras through OpenCV's V4L2 backend, for kiosks without a Raspberry Pi camera."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from device.camera.base import CameraConfig, Frame
from device.camera.identity import UNCHECKED, CameraIdentity, v4l2_full_identity
from device.errors import CameraError

log = logging.getLogger(__name__)


class V4l2Camera:
    """Reads frames on a thread and keeps only the newest; capture() waits for a fresh one."""

    def __init__(self, device: str, sysfs_root: Path = Path("/sys")) -> None:
        self._device = device
        self._sysfs_root = sysfs_root
        self._identity = UNCHECKED
        self._config = CameraConfig()
        self._capture: Any = None
        self._latest: Frame | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counters = {"frames": 0, "read_errors": 0, "timeouts": 0}
        self._failure: CameraError | None = None

    def configure(self, config: CameraConfig) -> None:
        self._config = config

    def start(self) -> None:
        self._identity = v4l2_full_identity(self._device, self._sysfs_root)
        capture = cv2.VideoCapture(self._device, cv2.CAP_V4L2)
        if not capture.isOpened():
            raise CameraError(f"cannot open camera {self._device}")
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._config.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._config.height)
        capture.set(cv2.CAP_PROP_FPS, self._config.fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture
        self._stop.clear()
        self._thread = threading.Thread(target=self._read_loop, name="camera-v4l2", daemon=True)
        self._thread.start()

    @contextmanager
    def capture(self, timeout_s: float) -> Iterator[Frame]:
        with self._cond:
            last = self._latest.sequence if self._latest else -1
            fresh = self._cond.wait_for(lambda: self._is_fresh(last), timeout=timeout_s)
            if self._failure is not None:
                raise self._failure
            if not fresh or self._latest is None:
                self._counters["timeouts"] += 1
                raise CameraError(f"no frame from {self._device} within {timeout_s:.1f} s")
            frame = self._latest
        yield frame

    def _is_fresh(self, last: int) -> bool:
        newer = self._latest is not None and self._latest.sequence != last
        return newer or self._failure is not None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def close(self) -> None:
        self.stop()

    def status(self) -> dict[str, Any]:
        return {"type": "v4l2", "device": self._device, **self._counters}

    def identity(self) -> CameraIdentity:
        return self._identity

    def _read_loop(self) -> None:
        sequence = 0
        failures = 0
        while not self._stop.is_set():
            ok, bgr = self._capture.read()
            if not ok:
                failures += 1
                self._counters["read_errors"] += 1
                if failures >= 25:
                    self._fail(CameraError(f"camera {self._device} stopped delivering frames"))
                    return
                time.sleep(0.04)
                continue
            failures = 0
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            with self._cond:
                self._latest = Frame(rgb=rgb, sequence=sequence, timestamp_s=time.monotonic())
                self._counters["frames"] += 1
                self._cond.notify_all()
            sequence += 1

    def _fail(self, error: CameraError) -> None:
        log.error("%s", error)
        with self._cond:
            self._failure = error
            self._cond.notify_all()
