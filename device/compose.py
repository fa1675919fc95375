"""The composition root: every component of a kiosk built from the configuration, wired once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from device.camera.base import Camera
from device.cardreader.bus import bus_sink
from device.cardreader.reader import CardReader
from device.config import Config
from device.core import CoreLoop
from device.daemon import Daemon, camera_component
from device.events import EventBus
from device.fleet.modelslots import ModelSlots
from device.health import Watchdog
from device.kiosk import KioskHandler
from device.logring import RingHandler
from device.publish.publisher import Publisher
from device.sdnotify import Notifier
from device.session.handler import build_runner
from device.session.runner import SessionRunner
from device.ui.server import KioskUi

log = logging.getLogger(__name__)


def with_models_dir(config: Config, models_dir: Path) -> Config:
    vision = config.vision.model_copy(update={"models_dir": str(models_dir)})
    return config.model_copy(update={"vision": vision})


class Kiosk:
    """Everything one running kiosk is made of, for the fleet channel and the tests."""

    def __init__(
        self, config: Config, config_path: Path | None, camera: Camera | None = None
    ) -> None:
        self.config = config
        self.camera = camera  # a camera object instead of the configured backend (the demo)
        self.view_listeners: list[Callable[[Mapping[str, Any]], object]] = []
        self.config_path = config_path
        self.bus = EventBus(config.device.event_queue_size)
        self.logs = RingHandler()
        self.slots = ModelSlots(Path(config.device.state_dir), Path(config.vision.models_dir))
        self.ui = KioskUi(config.ui, on_worker_input=self._worker) if config.ui.enabled else None
        self.publisher = Publisher(config)
        self.handler: KioskHandler | None = None
        self.daemon: Daemon | None = None

    def _worker(self, event: Any) -> None:
        self.bus.post(event, timeout_s=1.0)

    def publish_view(self, view: Mapping[str, Any]) -> None:
        if self.ui is not None:
            self.ui.publish(view)
        for listener in self.view_listeners:
            listener(view)

    def new_runner(self, config: Config, models_dir: Path | None = None) -> SessionRunner:
        """A session runner for config (models sha256-verified and loaded: may raise)."""
        effective = with_models_dir(config, models_dir or self.slots.active_dir())
        return build_runner(effective, on_view=self.publish_view, on_record=self.record,
                            readiness=self.publisher.problem)

    def report_models(self, runner: SessionRunner) -> None:
        """Telemetry names the models in use (name@sha256 prefix)."""
        models = {**runner.analyzer.model_ids, "embed": runner.embedder.model_id}
        self.publisher.telemetry.models = models
        self.publisher.telemetry.decided_with = runner.decided_with.as_dict()

    def record(self, record: dict[str, Any], personal: dict[str, str]) -> None:
        """Durably store a decision before the person is told it was recorded."""
        result_id = self.publisher.submit(record, personal)
        log.info("decision %s recorded as %s", record.get("decision"), result_id)

    def build(self) -> Daemon:
        config = self.config
        preview: Callable[[Any], None] = self.ui.set_preview if self.ui else lambda frame: None
        runner = self.new_runner(config)
        self.handler = KioskHandler(runner, self.publish_view, preview, self.report_models)
        self.report_models(runner)
        notifier = Notifier()
        handler = self.handler
        watchdog = Watchdog(notifier, notifier.watchdog_interval_s(),
                            describe=lambda: f"ready: {handler.state()}")
        loop = CoreLoop(self.bus, handler, beat=watchdog.beat)
        daemon = Daemon(config=config, bus=self.bus, loop=loop, notifier=notifier)
        daemon.add("publisher", self.publisher)  # the outbox opens before any session
        if self.ui is not None:
            daemon.add("ui", self.ui)
        daemon.add("cardreader", CardReader(config.cardreader, bus_sink(self.bus)))
        daemon.add("camera", camera_component(config, self.bus, self.camera))
        if config.fleet.enabled:
            from device.fleet.wiring import build_fleet  # the fleet is optional

            daemon.add("fleet", build_fleet(self, daemon))
        daemon.add("session", _Status(lambda: handler.status()))
        daemon.add("watchdog", watchdog)  # last: starts just before READY=1, stops first
        watchdog.add_check("publisher", lambda: bool(self.publisher.status()["running"]))
        self.logs.install()
        self.daemon = daemon
        return daemon


class _Status:
    """A component with nothing to start: only a status() for telemetry."""

    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        self._status = status

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def status(self) -> dict[str, Any]:
        return self._status()
