"""The demo's camera: a simulated visitor in front of the kiosk (SYNTHETIC frames).

The visitor watches the kiosk screen (the views the kiosk publishes) and reacts as the liveness
evaluation's scenes do: a bona fide person follows the challenge prompts and reflects the screen
flash; a photo attack does neither. It implements the Camera interface, so the daemon cannot
tell it from hardware.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from device.camera.base import CameraConfig, Frame
from device.camera.threaded import ThreadedCamera
from device.errors import CameraError
from device.liveness.api import Prompt
from device.liveness.harness import Scene
from device.liveness.scenes import FaceSource, room
from device.vision.analyzer import FaceAnalyzer
from device.vision.types import Image

SCENE_SIZE = (320, 240)


def face_source(name: str, rgb: Image, analyzer: FaceAnalyzer) -> FaceSource:
    """A 320x240 head-and-shoulders still of the largest face in rgb, with its face mesh."""
    faces = analyzer.analyze(rgb, max_faces=1)
    if not faces:
        raise CameraError(f"{name}: no face in the demo photo")
    box = faces[0].detection.box
    cx, cy = box.center
    width = box.width / 0.42  # the face fills ~42 % of the frame's width, as at a kiosk
    height = width * SCENE_SIZE[1] / SCENE_SIZE[0]
    x0, y0 = cx - width / 2, cy - height * 0.45
    matrix = np.array([[SCENE_SIZE[0] / width, 0, -x0 * SCENE_SIZE[0] / width],
                       [0, SCENE_SIZE[1] / height, -y0 * SCENE_SIZE[1] / height]])
    warped = cv2.warpAffine(rgb, matrix, SCENE_SIZE, borderMode=cv2.BORDER_REPLICATE)
    still: Image = np.ascontiguousarray(warped, dtype=np.uint8)
    faces = analyzer.analyze(still, max_faces=1)
    if not faces or faces[0].mesh is None:
        raise CameraError(f"{name}: no face mesh in the demo still")
    return FaceSource(name, still, faces[0].mesh.points)


def prompt_of(view: Mapping[str, Any]) -> Prompt | None:
    """What a person reads off the screen: the message code, countdown and screen colour."""
    code = view.get("code")
    if not isinstance(code, str):
        return None
    flash = view.get("flash_rgb")
    colour = (int(flash[0]), int(flash[1]), int(flash[2])) if flash else None
    return Prompt(code, float(view.get("countdown_s") or 0.0), colour)


class VisitorCamera(ThreadedCamera):
    name = "visitor (synthetic)"

    def __init__(self, seed: int = 7, queue_size: int = 4) -> None:
        super().__init__(queue_size)
        self._config = CameraConfig(*SCENE_SIZE, fps=10.0)
        self._rng = np.random.default_rng(seed)
        self._empty = room(self._rng, (SCENE_SIZE[1], SCENE_SIZE[0]))
        self._scene: Scene | None = None
        self._prompt: Prompt | None = None
        self._lock = threading.Lock()

    def show(self, scene: Scene | None) -> None:
        """Who stands in front of the camera now (None: nobody)."""
        with self._lock:
            self._scene = scene

    def on_view(self, view: Mapping[str, Any]) -> None:
        with self._lock:
            self._prompt = prompt_of(view)

    def configure(self, config: CameraConfig) -> None:
        self._config = CameraConfig(*SCENE_SIZE, fps=config.fps)

    def start(self) -> None:
        self._launch()

    def _produce(self) -> None:
        period = 1.0 / self._config.fps
        sequence = 0
        while not self._stop.wait(period):
            now = time.monotonic()
            with self._lock:
                scene, prompt = self._scene, self._prompt
            rgb = scene.frame(prompt, now) if scene is not None else self._empty
            frame = Frame(rgb=np.ascontiguousarray(rgb), sequence=sequence, timestamp_s=now)
            sequence += 1
            self._counters["frames"] += 1
            self._put(frame)
