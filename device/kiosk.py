"""The core-loop handler of a kiosk: the session, the screen preview, refused cards, and live
replacement of the session (new thresholds or models) once the person in front has finished."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from device.camera.base import Frame
from device.camera.identity import UNCHECKED, CameraCheck
from device.events import CameraChecked, FrameArrived, WorkerInput
from device.messages import catalogue
from device.session.handler import CoreHandler
from device.session.runner import SessionRunner

log = logging.getLogger(__name__)

ACTIVE_STATES = frozenset({"identified", "guiding", "liveness", "matching"})


class KioskHandler:
    def __init__(
        self,
        runner: SessionRunner,
        publish_view: Callable[[Mapping[str, Any]], object] = lambda view: None,
        preview: Callable[[Frame | None], None] = lambda frame: None,
        on_swap: Callable[[SessionRunner], None] = lambda runner: None,
        on_camera: Callable[[CameraCheck], None] = lambda check: None,
    ) -> None:
        self._core = CoreHandler(runner)
        self._on_swap = on_swap
        self._publish_view = publish_view
        self._preview = preview
        self._pending: SessionRunner | None = None
        self._on_camera = on_camera
        self.camera = CameraCheck(UNCHECKED)
        self.swaps = 0

    @property
    def runner(self) -> SessionRunner:
        return self._core.runner

    def replace_runner(self, runner: SessionRunner) -> str:
        """Use `runner` from the next idle moment on (immediately when idle)."""
        self._pending = runner
        self._swap_if_idle()
        return "applied" if self._pending is None else "pending until the session ends"

    def _swap_if_idle(self) -> None:
        if self._pending is not None and self._core.state() == "idle":
            self._core = CoreHandler(self._pending)
            self._core.runner.on_camera(self.camera)  # the new runner knows the camera too
            self._pending = None
            self.swaps += 1
            self._on_swap(self._core.runner)
            log.info("session settings or models replaced")

    def on_card(self, card: Any, now_s: float) -> None:
        self._core.on_card(card, now_s)

    def on_card_removed(self, now_s: float) -> None:
        self._core.on_card_removed(now_s)

    def on_card_refused(self, reason: str, now_s: float) -> None:
        log.info("card refused: %s", reason)
        zh, en = catalogue()["id_invalid"]
        self._publish_view({"state": "idle", "code": "id_invalid", "zh": zh, "en": en,
                            "countdown_s": None, "flash_rgb": None, "progress": 0.0,
                            "result": None})

    def on_frame(self, event: FrameArrived, now_s: float) -> None:
        if self._core.state() in ACTIVE_STATES:
            self._preview(event.frame)
        self._core.on_frame(event, now_s)

    def on_worker_input(self, event: WorkerInput, now_s: float) -> None:
        self._core.on_worker_input(event, now_s)

    def on_tick(self, now_s: float) -> None:
        self._core.on_tick(now_s)
        self._swap_if_idle()

    def on_camera(self, event: CameraChecked, now_s: float) -> None:
        self.camera = event.check
        self._core.on_camera(event, now_s)
        self._on_camera(event.check)

    def state(self) -> str:
        return self._core.state()

    def status(self) -> dict[str, Any]:
        return {**self.runner.status(), "swaps": self.swaps,
                "pending_swap": self._pending is not None,
                "camera": self.camera.identity.record(),
                "camera_refusal": self.camera.refusal or None}
