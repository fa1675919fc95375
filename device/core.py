"""The core loop: the one owner of session state. Threads only post events to its bus."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from device.events import (
    Call,
    CameraChecked,
    CardInserted,
    CardRefused,
    CardRemoved,
    ComponentFailed,
    Event,
    EventBus,
    FrameArrived,
    WorkerInput,
)

log = logging.getLogger(__name__)


class Handler(Protocol):
    """What the core loop drives: the verification session glue (or a logger in a bare daemon)."""

    def on_card(self, card: Any, now_s: float) -> None: ...

    def on_card_removed(self, now_s: float) -> None: ...

    def on_card_refused(self, reason: str, now_s: float) -> None: ...

    def on_frame(self, event: FrameArrived, now_s: float) -> None: ...

    def on_worker_input(self, event: WorkerInput, now_s: float) -> None: ...

    def on_tick(self, now_s: float) -> None: ...

    def on_camera(self, event: CameraChecked, now_s: float) -> None: ...

    def state(self) -> str: ...


class CoreLoop:
    """Takes events off the bus and hands them to the handler, one at a time, on one thread."""

    def __init__(
        self,
        bus: EventBus,
        handler: Handler,
        beat: Callable[[], None] = lambda: None,
        tick_s: float = 0.1,
        report_every_s: float = 5.0,
    ) -> None:
        self.bus = bus
        self.handler = handler
        self._beat = beat
        self._tick_s = tick_s
        self.stop_requested = threading.Event()
        self.failures: list[str] = []
        self._hang: tuple[float, float] | None = None
        self._report_every_s = report_every_s
        self._frames = 0
        self._last_report = time.monotonic()

    def hang_once(self, after_s: float, for_s: float) -> None:
        """Testing aid for the systemd watchdog: block the loop once, after_s after run()."""
        self._hang = (after_s, for_s)

    def run(self, deadline_s: float | None = None) -> None:
        """Run until stop() or the monotonic deadline passes."""
        hang_at = time.monotonic() + self._hang[0] if self._hang else None
        while not self.stop_requested.is_set():
            now = time.monotonic()
            if hang_at is not None and self._hang is not None and now >= hang_at:
                hang_at = None
                log.warning("debug: blocking the core loop for %.1f s", self._hang[1])
                time.sleep(self._hang[1])
            if deadline_s is not None and now >= deadline_s:
                return
            event = self.bus.get(self._tick_s)
            now = time.monotonic()
            if event is not None:
                self._dispatch(event, now)
            self.handler.on_tick(now)
            self._beat()
            self._report(now)

    def _report(self, now: float) -> None:
        elapsed = now - self._last_report
        if elapsed >= self._report_every_s:
            log.info("frames arriving: %d in %.1f s (%.1f fps), %d dropped, state %s",
                     self._frames, elapsed, self._frames / elapsed, self.bus.frames_dropped,
                     self.handler.state())
            self._frames = 0
            self._last_report = now

    def stop(self) -> None:
        self.stop_requested.set()

    def _dispatch(self, event: Event, now: float) -> None:
        if isinstance(event, FrameArrived):
            self._frames += 1
            self.handler.on_frame(event, now)
        elif isinstance(event, CardInserted):
            self.handler.on_card(event.card, now)
        elif isinstance(event, CardRemoved):
            self.handler.on_card_removed(now)
        elif isinstance(event, CardRefused):
            self.handler.on_card_refused(event.reason, now)
        elif isinstance(event, WorkerInput):
            self.handler.on_worker_input(event, now)
        elif isinstance(event, ComponentFailed):
            log.warning("%s failed: %s", event.component, event.error)
            self.failures = [*self.failures[-9:], f"{event.component}: {event.error}"]
        elif isinstance(event, CameraChecked):
            self.handler.on_camera(event, now)
        elif isinstance(event, Call):
            self._call(event)

    def _call(self, event: Call) -> None:
        try:
            event.reply.put((True, event.function()))
        except Exception as exc:  # a fleet call's failure is reported to its caller
            log.exception("call on the core loop failed")
            event.reply.put((False, exc))
