"""The shared half of cameras whose frames come from a producer thread (replay, simulators):
a bounded newest-wins queue, capture with a timeout, stop and counters."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from device.camera.base import CameraConfig, Frame
from device.camera.identity import CameraIdentity, simulator_identity
from device.errors import CameraError
from device.queues import put_newest


class ThreadedCamera:
    """Subclasses implement _produce() (run on the thread until _stop is set) and name."""

    name = "threaded"

    def __init__(self, queue_size: int = 4) -> None:
        self._config = CameraConfig()
        self._queue: queue.Queue[Frame | Exception] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counters = {"frames": 0, "dropped": 0, "captured": 0, "timeouts": 0}

    def _launch(self, *args: Any) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._produce, args=args, name=f"camera-{self.name}", daemon=True
        )
        self._thread.start()

    def _produce(self, *args: Any) -> None:
        raise CameraError(f"{type(self).__name__} does not produce frames")

    @contextmanager
    def capture(self, timeout_s: float) -> Iterator[Frame]:
        if self._thread is None:
            raise CameraError("capture() before start()")
        try:
            item = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            self._counters["timeouts"] += 1
            raise CameraError(f"no frame within {timeout_s:.1f} s") from None
        if isinstance(item, Exception):
            raise item
        self._counters["captured"] += 1
        yield item

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def close(self) -> None:
        self.stop()

    def status(self) -> dict[str, Any]:
        return {"type": self.name, "running": self._thread is not None, **self._counters}

    def identity(self) -> CameraIdentity:
        """A simulator says so: it never passes for a pinned USB or CSI camera."""
        return simulator_identity(self.name)

    def _put(self, item: Frame | Exception) -> None:
        """Newest wins: when the consumer is behind, the oldest frame is dropped and counted."""
        self._counters["dropped"] += put_newest(self._queue, item)
