"""The camera thread: captures frames and posts them to the core loop; reopens a lost camera."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from device.backoff import Backoff
from device.camera.base import Camera, Frame
from device.camera.identity import CameraCheck, CameraIdentity, CameraPin, check_camera
from device.errors import CameraError

log = logging.getLogger(__name__)


class CameraPump:
    """Owns the camera's lifecycle on its own thread.

    A capture that times out or fails marks the camera lost: the pump reports it, stops the
    camera, and restarts it after a doubling delay with jitter (capped), forever until stop().
    After every (re)start the camera's identity is checked against the pin and against the
    first camera seen; the result goes to on_check, and a refused camera's frames are dropped
    (counted) instead of posted.
    A report the core loop could not take (the bus is full: `on_failure` returns False) or a
    callback that raises is counted and shown in status(); it never ends the thread.
    """

    def __init__(
        self,
        camera: Camera,
        on_frame: Callable[[Frame], object],
        on_failure: Callable[[str], object],
        capture_timeout_s: float,
        max_backoff_s: float = 10.0,
        pin: CameraPin | None = None,
        on_check: Callable[[CameraCheck], object] = lambda check: None,
    ) -> None:
        self._camera = camera
        self._on_frame = on_frame
        self._on_failure = on_failure
        self._timeout_s = capture_timeout_s
        self._max_backoff_s = max_backoff_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first_frame = threading.Event()
        self.restarts = 0
        self.frames = 0
        self.frames_refused = 0
        self._pin = pin or CameraPin()
        self._on_check = on_check
        self._first: CameraIdentity | None = None
        self.check: CameraCheck | None = None
        self.failures_lost = 0  # camera-lost reports the bus could not take
        self.callback_errors = 0

    def start(self) -> None:
        self._camera.start()
        self._verify()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout_s + 5.0)
            self._thread = None
        self._camera.close()

    def wait_for_frame(self, timeout_s: float) -> bool:
        """True once the camera has delivered a frame; False if none came within timeout_s."""
        return self._first_frame.wait(timeout_s)

    def status(self) -> dict[str, Any]:
        check = self.check
        return {
            "frames": self.frames,
            "restarts": self.restarts,
            "frames_refused": self.frames_refused,
            "failures_lost": self.failures_lost,
            "callback_errors": self.callback_errors,
            **self._camera.status(),
            "identity": check.identity.record() if check else None,
            "refusal": check.refusal if check else None,
        }

    def _verify(self) -> None:
        identity = self._camera.identity()
        check = check_camera(identity, self._pin, self._first)
        if self._first is None and not check.refusal:
            self._first = identity
        if check.refusal:
            log.error("camera refused (%s): %s", check.refusal, identity)
        self.check = check
        self._deliver(self._on_check, check)

    def _run(self) -> None:
        backoff = Backoff(0.5, self._max_backoff_s)
        while not self._stop.is_set():
            try:
                with self._camera.capture(self._timeout_s) as frame:
                    self.frames += 1
                    self._first_frame.set()
                    if self.check is not None and self.check.refusal:
                        self.frames_refused += 1
                    else:
                        self._deliver(self._on_frame, frame)
                backoff.reset()
            except CameraError as exc:
                delay = backoff.next()
                log.warning("camera lost: %s; restarting in %.1f s", exc, delay)
                if self._deliver(self._on_failure, str(exc)) is False:
                    self.failures_lost += 1
                self._camera.stop()
                if self._stop.wait(delay):
                    return
                self._restart()

    def _deliver(self, callback: Callable[[Any], object], value: Any) -> object:
        try:
            return callback(value)
        except Exception:  # a callback boundary: the camera thread must go on
            self.callback_errors += 1
            log.exception("camera: event callback failed")
            return False

    def _restart(self) -> None:
        try:
            self._camera.start()
            self.restarts += 1
            self._verify()
        except CameraError as exc:
            log.warning("camera restart failed: %s", exc)
