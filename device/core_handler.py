"""The core loop's handler (device.core.Handler) in a kiosk: events to the session runner, the
screen preview, refused cards, and live replacement of the session (new thresholds or models)
once the person in front has finished."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from device.camera.base import Frame
from device.camera.identity import UNCHECKED, CameraCheck
from device.cardreader.card import IdCard
from device.events import CameraChecked, ConsentAnswered, FrameArrived, WorkerInput
from device.messages import catalogue
from device.session.decisions import show_view
from device.session.machine import Show
from device.session.runner import SessionRunner

log = logging.getLogger(__name__)

ACTIVE_STATES = frozenset({"identified", "guiding", "liveness", "matching"})


class CoreHandler:
    def __init__(
        self,
        runner: SessionRunner,
        publish_view: Callable[[Mapping[str, Any]], object] = lambda view: None,
        preview: Callable[[Frame | None], None] = lambda frame: None,
        on_swap: Callable[[SessionRunner], None] = lambda runner: None,
        on_camera: Callable[[CameraCheck], None] = lambda check: None,
    ) -> None:
        self.runner = runner
        self._on_swap = on_swap
        self._publish_view = publish_view
        self._preview = preview
        self._pending: SessionRunner | None = None
        self._on_camera = on_camera
        self.camera = CameraCheck(UNCHECKED)
        self.swaps = 0

    def replace_runner(self, runner: SessionRunner) -> str:
        """Use `runner` from the next idle moment on (immediately when idle)."""
        self._pending = runner
        self._swap_if_idle()
        return "applied" if self._pending is None else "pending until the session ends"

    def _swap_if_idle(self) -> None:
        if self._pending is not None and self.runner.state() == "idle":
            self.runner = self._pending
            self.runner.on_camera(self.camera)  # the new runner knows the camera too
            self._pending = None
            self.swaps += 1
            self._on_swap(self.runner)
            log.info("session settings or models replaced")

    def on_card(self, card: IdCard, now_s: float) -> None:
        self.runner.on_card(card, now_s)

    def on_card_removed(self, now_s: float) -> None:
        self.runner.on_card_removed(now_s)

    def on_card_refused(self, reason: str, now_s: float) -> None:
        log.info("card refused: %s", reason)
        self._publish_view(show_view(Show("idle", "id_invalid"), catalogue()))

    def on_frame(self, event: FrameArrived, now_s: float) -> None:
        if self.runner.state() in ACTIVE_STATES:
            self._preview(event.frame)
        self.runner.on_frame(event.frame, now_s)

    def on_worker_input(self, event: WorkerInput, now_s: float) -> None:
        self.runner.on_worker_input(event.id_number, event.consent, now_s, event.notice_version)

    def on_consent(self, event: ConsentAnswered, now_s: float) -> None:
        self.runner.on_consent(event.accepted, event.notice_version, event.assisted, now_s)

    def on_tick(self, now_s: float) -> None:
        self.runner.on_tick(now_s)
        self._swap_if_idle()

    def on_camera(self, event: CameraChecked, now_s: float) -> None:
        self.camera = event.check
        self.runner.on_camera(event.check)
        self._on_camera(event.check)

    def state(self) -> str:
        return self.runner.state()

    def status(self) -> dict[str, Any]:
        return {**self.runner.status(), "swaps": self.swaps,
                "pending_swap": self._pending is not None,
                "camera": self.camera.identity.record(),
                "camera_refusal": self.camera.refusal or None}
