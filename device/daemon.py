"""The lifecycles of a running kiosk: components start in order, the core loop runs, they stop
in reverse. What the components are is decided in device/compose.py (the composition root)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol

from device.core import CoreLoop
from device.events import EventBus

log = logging.getLogger(__name__)


class Component(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def status(self) -> dict[str, Any]: ...


class ServiceNotifier(Protocol):
    """What the service manager hears (device.sdnotify.Notifier)."""

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

    name: str  # the device id, for the log
    bus: EventBus
    loop: CoreLoop
    components: list[tuple[str, Component]] = field(default_factory=list)
    notifier: ServiceNotifier = field(default_factory=NullNotifier)
    on_started: list[Callable[[], None]] = field(default_factory=list)
    started: list[tuple[str, Component]] = field(default_factory=list)
    restart_requested: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, component: Component) -> None:
        self.components.append((name, component))

    def component(self, name: str) -> Component:
        with self._lock:
            return dict(self.components)[name]

    def replace(self, name: str, component: Component) -> None:
        """Stop the running component `name` and start `component` in its place (from any
        thread). If the new one fails to start, it is left out and the error propagates: the
        caller restores the previous configuration."""
        with self._lock:
            index = next(i for i, (n, _) in enumerate(self.components) if n == name)
            old = self.components[index][1]
            old.stop()
            self.started = [(n, c) for n, c in self.started if n != name]
            self.components[index] = (name, component)
            component.start()
            self.started.append((name, component))

    def request_restart(self) -> None:
        """End the core loop; `faceterm run` then re-executes itself (systemd keeps the PID)."""
        self.restart_requested = True
        self.loop.stop()

    def status(self) -> dict[str, Any]:
        report: dict[str, Any] = {"state": self.loop.handler.state(), "bus": self.bus.status()}
        with self._lock:
            started = list(self.started)
        for name, component in started:
            report[name] = component.status()
        return report

    def run(self, duration_s: float | None = None) -> int:
        """Start everything, signal READY, run until SIGTERM/SIGINT or the duration, stop."""
        self._install_signal_handlers()
        try:
            for name, component in list(self.components):
                self.notifier.status(f"starting {name}")
                with self._lock:
                    component.start()
                    self.started.append((name, component))
                log.info("%s started", name)
            for hook in self.on_started:
                hook()
            self.notifier.ready()
            self.notifier.status(f"ready: {self.loop.handler.state()}")
            log.info("faceterm %s ready", self.name)
            deadline = time.monotonic() + duration_s if duration_s else None
            self.loop.run(deadline)
        finally:
            self.notifier.stopping()
            self._stop_all()
        log.info("faceterm stopped")
        return 0

    def _stop_all(self) -> None:
        with self._lock:
            started = list(reversed(self.started))
        for name, component in started:
            try:
                component.stop()
            except Exception:  # one component's failure must not keep the others running
                log.exception("stopping %s failed", name)
        with self._lock:
            self.started.clear()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def request_stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: stopping", signal.Signals(signum).name)
            self.loop.stop()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

