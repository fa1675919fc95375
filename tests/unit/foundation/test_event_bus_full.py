"""A full event bus never kills the thread that posts: events wait in an ordered overflow, and
only when that is full too is one lost, counted and reported in status."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from device.camera.base import CameraConfig, Frame
from device.camera.identity import CameraIdentity, simulator_identity
from device.camera.pump import CameraPump
from device.errors import CameraError
from device.events import CardRefused, CardRemoved, ComponentFailed, EventBus


def test_a_card_removed_posted_to_a_full_bus_arrives_after_the_earlier_events() -> None:
    bus = EventBus(8, overflow=4)
    for index in range(8):
        assert bus.post(CardRefused("bad", f"r{index}", 0.0), timeout_s=0.01)
    assert bus.post(CardRemoved(1.0), timeout_s=0.01)  # no queue.Full at the poster
    assert bus.status()["overflow"] == 1
    seen = [bus.get(0.1) for _ in range(9)]
    assert seen[-1] == CardRemoved(1.0)
    assert seen[:8] == [CardRefused("bad", f"r{i}", 0.0) for i in range(8)]
    assert bus.get(0.01) is None and bus.lost() == 0


def test_an_event_lost_on_a_full_overflow_is_counted_not_raised() -> None:
    bus = EventBus(8, overflow=1)
    for index in range(9):
        assert bus.post(CardRefused("bad", f"r{index}", 0.0), timeout_s=0.01)
    assert not bus.post(ComponentFailed("camera", "lost"), timeout_s=0.01)
    assert bus.status()["events_lost"] == {"ComponentFailed": 1}


class FailingCamera:
    """A camera whose every capture fails (as a disconnected one does)."""

    def __init__(self) -> None:
        self.captures = 0

    def configure(self, config: CameraConfig) -> None:
        pass

    def start(self) -> None:
        pass

    @contextmanager
    def capture(self, timeout_s: float) -> Iterator[Frame]:
        self.captures += 1
        raise CameraError("camera unplugged")
        yield  # pragma: no cover

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass

    def status(self) -> dict[str, Any]:
        return {"captures": self.captures}

    def identity(self) -> CameraIdentity:
        return simulator_identity("failing")


def test_the_camera_thread_survives_a_full_bus_and_says_so_in_status() -> None:
    bus = EventBus(8, overflow=1)
    for index in range(9):
        bus.post(CardRefused("bad", f"r{index}", 0.0), timeout_s=0.01)
    camera = FailingCamera()
    pump = CameraPump(camera, bus.post_frame,
                      lambda error: bus.post(ComponentFailed("camera", error), timeout_s=0.01),
                      capture_timeout_s=0.1, max_backoff_s=0.05)
    pump.start()
    deadline = time.monotonic() + 10
    while pump.status()["failures_lost"] < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    alive = any(t.name == "camera" and t.is_alive() for t in threading.enumerate())
    status = pump.status()
    pump.stop()
    assert alive and status["failures_lost"] >= 2
    assert bus.status()["events_lost"]["ComponentFailed"] >= 2
