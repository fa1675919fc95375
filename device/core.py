"""The core loop: the one owner of session state. Threads only post events to its bus."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from device.cardreader.card import IdCard
from device.errors import CommandRejected
from device.events import (
    Call,
    CameraChecked,
    CardInserted,
    CardRefused,
    CardRemoved,
    ComponentFailed,
    ConsentAnswered,
    Event,
    EventBus,
    FrameArrived,
    WorkerInput,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class Handler(Protocol):
    """What the core loop drives: the verification session glue (or a logger in a bare daemon)."""

    def on_card(self, card: IdCard, now_s: float) -> None: ...

    def on_card_removed(self, now_s: float) -> None: ...

    def on_card_refused(self, reason: str, now_s: float) -> None: ...

    def on_frame(self, event: FrameArrived, now_s: float) -> None: ...

    def on_worker_input(self, event: WorkerInput, now_s: float) -> None: ...

    def on_consent(self, event: ConsentAnswered, now_s: float) -> None: ...

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
        self._report_every_s = report_every_s
        self._frames = 0
        self._last_report = time.monotonic()

    def run(self, deadline_s: float | None = None) -> None:
        """Run until stop() or the monotonic deadline passes."""
        while not self.stop_requested.is_set():
            now = time.monotonic()
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
        elif isinstance(event, ConsentAnswered):
            self.handler.on_consent(event, now)
        elif isinstance(event, ComponentFailed):
            log.warning("%s failed: %s", event.component, event.error)
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


def call_on_core(bus: EventBus, function: Callable[[], T], timeout_s: float) -> T:
    """Run function on the core loop (the owner of session state) and return its result; the
    post and the answer each wait at most timeout_s."""
    reply: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    bus.post(Call(function, reply), timeout_s=timeout_s)
    try:
        ok, value = reply.get(timeout=timeout_s)
    except queue.Empty:
        raise CommandRejected("busy", f"core loop did not answer within {timeout_s} s") from None
    if not ok:
        raise value
    result: T = value
    return result
