"""The composition root: builds every component from the configuration and runs the core loop."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol

from device.camera import open_camera
from device.camera.pump import CameraPump
from device.cardreader.bus import bus_sink
from device.cardreader.reader import CardReader
from device.config import Config
from device.core import CoreLoop, Handler, LoggingHandler
from device.events import ComponentFailed, EventBus
from device.health import Watchdog
from device.sdnotify import Notifier as SdNotifier

log = logging.getLogger(__name__)


class Component(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def status(self) -> dict[str, Any]: ...


class Notifier(Protocol):
    def ready(self) -> None: ...

    def status(self, text: str) -> None: ...

    def stopping(self) -> None: ...


class NullNotifier:
    def ready(self) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def stopping(self) -> None:
        pass


@dataclass
class Daemon:
    """Components start in order and stop in reverse; the core loop runs on the calling thread."""

    config: Config
    bus: EventBus
    loop: CoreLoop
    components: list[tuple[str, Component]] = field(default_factory=list)
    notifier: Notifier = field(default_factory=NullNotifier)
    on_started: list[Callable[[], None]] = field(default_factory=list)
    started: list[tuple[str, Component]] = field(default_factory=list)

    def add(self, name: str, component: Component) -> None:
        self.components.append((name, component))

    def status(self) -> dict[str, Any]:
        report: dict[str, Any] = {"state": self.loop.handler.state(), "bus": self.bus.status()}
        for name, component in self.started:
            report[name] = component.status()
        return report

    def run(self, duration_s: float | None = None) -> int:
        """Start everything, signal READY, run until SIGTERM/SIGINT or the duration, stop."""
        self._install_signal_handlers()
        try:
            for name, component in self.components:
                self.notifier.status(f"starting {name}")
                component.start()
                self.started.append((name, component))
                log.info("%s started", name)
            for hook in self.on_started:
                hook()
            self.notifier.ready()
            self.notifier.status(f"ready: {self.loop.handler.state()}")
            log.info("faceterm %s ready", self.config.device.id)
            deadline = time.monotonic() + duration_s if duration_s else None
            self.loop.run(deadline)
        finally:
            self.notifier.stopping()
            self._stop_all()
        log.info("faceterm stopped")
        return 0

    def _stop_all(self) -> None:
        for name, component in reversed(self.started):
            try:
                component.stop()
            except Exception:  # one component's failure must not keep the others running
                log.exception("stopping %s failed", name)
        self.started.clear()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def request_stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: stopping", signal.Signals(signum).name)
            self.loop.stop()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)


def camera_component(config: Config, bus: EventBus) -> CameraPump:
    camera = open_camera(config.camera)
    return CameraPump(
        camera,
        on_frame=bus.post_frame,
        on_failure=lambda error: bus.post(ComponentFailed("camera", error)),
        capture_timeout_s=config.camera.capture_timeout_s,
    )


def build(config: Config, handler: Handler | None = None) -> Daemon:
    """Wire the daemon from configuration (no component is started here)."""
    bus = EventBus(config.device.event_queue_size)
    core_handler = handler or LoggingHandler()
    notifier = SdNotifier()
    watchdog = Watchdog(notifier, notifier.watchdog_interval_s(),
                        describe=lambda: f"ready: {core_handler.state()}")
    loop = CoreLoop(bus, core_handler, beat=watchdog.beat)
    daemon = Daemon(config=config, bus=bus, loop=loop, notifier=notifier)
    daemon.add("cardreader", CardReader(config.cardreader, bus_sink(bus)))
    daemon.add("camera", camera_component(config, bus))
    daemon.add("watchdog", watchdog)  # last: starts just before READY=1, stops first
    return daemon
