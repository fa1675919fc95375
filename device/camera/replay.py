"""A camera that replays image folders and video files at a fixed frame rate, with fault injection.

It stands in for the real camera in development, CI and the demo: same interface, same threads,
same bounded frame queue, so the pipeline above cannot tell it from hardware.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from device.camera.base import CameraConfig, Frame
from device.camera.threaded import ThreadedCamera
from device.errors import CameraError
from device.vision.types import Image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov"})


@dataclass(frozen=True, slots=True)
class ReplayFaults:
    """Faults injected by frame index: stalls (index -> seconds), black frames, a disconnect."""

    stall_at: tuple[tuple[int, float], ...] = ()
    black_frames: frozenset[int] = frozenset()
    disconnect_at: int | None = None


def list_sources(path: Path) -> list[Path]:
    """The replayable files under path (a file, or a folder's images/videos in name order)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CameraError(f"replay source {path} does not exist")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
    if not files:
        raise CameraError(f"replay source {path} holds no image or video files")
    return files


def iter_images(files: Sequence[Path], size: tuple[int, int]) -> Iterator[Image]:
    """Decode each file in turn (videos frame by frame) as RGB at the configured size."""
    for file in files:
        if file.suffix.lower() in VIDEO_SUFFIXES:
            yield from _iter_video(file, size)
        else:
            bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if bgr is None:
                raise CameraError(f"cannot decode image {file}")
            yield _to_rgb(bgr, size)


def _iter_video(file: Path, size: tuple[int, int]) -> Iterator[Image]:
    capture = cv2.VideoCapture(str(file))
    if not capture.isOpened():
        raise CameraError(f"cannot open video {file}")
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            yield _to_rgb(bgr, size)
    finally:
        capture.release()


def _to_rgb(decoded: npt.NDArray[Any], size: tuple[int, int]) -> Image:
    bgr: Image = np.asarray(decoded, dtype=np.uint8)
    if (bgr.shape[1], bgr.shape[0]) != size:
        bgr = letterbox(bgr, size)
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def letterbox(image: Image, size: tuple[int, int]) -> Image:
    """Scale image to fit size keeping its aspect ratio, padding with grey."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    new_w, new_h = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width, 3), 96, dtype=np.uint8)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    canvas[y0 : y0 + new_h, x0 : x0 + new_w] = resized
    return canvas


class ReplayCamera(ThreadedCamera):
    """Replays files at `config.fps` from a producer thread into a bounded queue (drops counted)."""

    name = "replay"

    def __init__(
        self,
        path: Path,
        loop: bool = True,
        faults: ReplayFaults | None = None,
        queue_size: int = 4,
    ) -> None:
        super().__init__(queue_size)
        self._path = path
        self._loop = loop
        self._faults = faults or ReplayFaults()

    def configure(self, config: CameraConfig) -> None:
        if self._thread is not None:
            raise CameraError("configure() while started: stop() first")
        self._config = config

    def start(self) -> None:
        if self._thread is not None:
            return
        self._launch(list_sources(self._path))

    def _produce(self, files: list[Path]) -> None:
        size = (self._config.width, self._config.height)
        period = 1.0 / self._config.fps
        index = 0
        next_due = time.monotonic()
        try:
            while not self._stop.is_set():
                for image in iter_images(files, size):
                    if not self._emit(index, image, next_due):
                        return
                    index += 1
                    next_due = max(next_due + period, time.monotonic() - period)
                if not self._loop:
                    self._put(CameraError("replay finished"))
                    return
        except CameraError as exc:
            self._put(exc)

    def _emit(self, index: int, image: Image, due: float) -> bool:
        if self._stop.wait(max(0.0, due - time.monotonic())):
            return False
        stall = dict(self._faults.stall_at).get(index)
        if stall is not None and self._stop.wait(stall):
            return False
        if self._faults.disconnect_at is not None and index >= self._faults.disconnect_at:
            self._put(CameraError(f"camera disconnected after {index} frames"))
            return False
        if index in self._faults.black_frames:
            image = np.zeros_like(image)
        frame = Frame(rgb=image, sequence=index, timestamp_s=time.monotonic(), metadata={})
        self._counters["frames"] += 1
        self._put(frame)
        return True
