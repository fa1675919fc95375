"""The live preview: the latest camera frame, held in memory only, encoded as JPEG on request."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from device.camera.base import Frame
from device.vision.types import Image


class PreviewStore:
    """Keeps a reference to the newest frame; encodes it at most once per frame (never to disk)."""

    def __init__(self, max_width_px: int, jpeg_quality: int) -> None:
        self._max_width_px = max_width_px
        self._jpeg_quality = jpeg_quality
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._cached: tuple[Frame, bytes] | None = None
        self.frames_set = 0
        self.encoded = 0
        self.served = 0

    def set(self, frame: Frame | None) -> None:
        """Show this frame next (None clears the preview, e.g. when a session ends)."""
        with self._lock:
            self._frame = frame
            if frame is None:
                self._cached = None
            else:
                self.frames_set += 1

    def jpeg(self) -> bytes | None:
        with self._lock:
            frame, cached = self._frame, self._cached
        if frame is None:
            return None
        if cached is not None and cached[0] is frame:
            data = cached[1]
        else:
            data = self._encode(frame.rgb)
            with self._lock:
                if self._frame is frame:
                    self._cached = (frame, data)
                self.encoded += 1
        with self._lock:
            self.served += 1
        return data

    def _encode(self, rgb: Image) -> bytes:
        height, width = rgb.shape[:2]
        if width > self._max_width_px:
            scale = self._max_width_px / width
            size = (self._max_width_px, max(1, round(height * scale)))
            rgb = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
        ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self._jpeg_quality])
        if not ok:
            raise ValueError("JPEG encoding failed")
        return bytes(buffer.tobytes())

    def status(self) -> dict[str, int]:
        with self._lock:
            return {
                "preview_frames": self.frames_set,
                "preview_encoded": self.encoded,
                "preview_served": self.served,
            }
