"""The composition root: every component of a kiosk built from the configuration, wired once.

`Kiosk(config, path).build()` returns the Daemon that runs them (device/daemon.py only runs
lifecycles). The fleet package gets a `Services` built here and never sees the kiosk; a fleet
`config.set` comes back here as `Kiosk.apply_config`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from device.camera import camera_pin, open_camera
from device.camera.base import Camera, CameraConfig
from device.camera.identity import CameraCheck
from device.camera.pump import CameraPump
from device.cardreader.bus import bus_sink
from device.cardreader.reader import CardReader
from device.config import Config
from device.core import CoreLoop, call_on_core
from device.core_handler import CoreHandler
from device.daemon import Daemon
from device.errors import CameraError, FacetermError
from device.events import CameraChecked, ComponentFailed, EventBus
from device.fleet.component import FleetComponent, load_keyring
from device.fleet.configstore import ConfigStore, Probation
from device.fleet.guard import changed_sections, touches_channel
from device.fleet.handlers import Services
from device.fleet.modelslots import ModelSlots
from device.fleet.sealed import ENC_KEY_NAME, ensure_enc_key, load_enc_key
from device.health import Watchdog
from device.logring import RingHandler
from device.publish.publisher import Publisher
from device.sdnotify import Notifier
from device.selftest import check_models, report, running_selftest
from device.session.handler import build_runner, open_templates
from device.session.runner import SessionRunner
from device.ui.server import ScreenServer

log = logging.getLogger(__name__)

DEVICE_SECTIONS = frozenset({"camera", "cardreader"})
SESSION_SECTIONS = frozenset({"session", "liveness", "vision"})
# [fleet] and [mqtt] are read at start-up only: a change needs a restart and, as it touches the
# fleet channel, probation until a signed command verifies again (device/fleet/guard.py).
LIVE_SECTIONS = DEVICE_SECTIONS | SESSION_SECTIONS


def with_models_dir(config: Config, models_dir: Path) -> Config:
    vision = config.vision.model_copy(update={"models_dir": str(models_dir)})
    return config.model_copy(update={"vision": vision})


class Kiosk:
    """Everything one running kiosk is made of, for the daemon, the fleet services and tests."""

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
        # [session] pace is read here only for the voice's pace when a view does not say it.
        slow = config.session.pace == "slow"
        self.ui = (ScreenServer(config.ui, on_worker_input=self._worker,
                                on_consent=self._worker, slow=slow)
                   if config.ui.enabled else None)
        self.publisher = Publisher(config)
        self.handler: CoreHandler | None = None
        self.daemon: Daemon | None = None

    def _worker(self, event: Any) -> None:
        """Worker input and consent answers from the page, onto the core loop's bus."""
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
        antispoof = getattr(getattr(runner.liveness, "antispoof", None), "entry", None)
        self.publisher.telemetry.antispoof = antispoof.model_id if antispoof else ""
        self.publisher.telemetry.decided_with = runner.decided_with.as_dict()

    def report_camera(self, check: CameraCheck) -> None:
        """Telemetry names the camera in use and, when refused, why."""
        self.publisher.telemetry.camera = {**check.identity.record(), "refusal": check.refusal}

    def record(self, record: dict[str, Any], personal: dict[str, str]) -> None:
        """Durably store a decision before the person is told it was recorded."""
        result_id = self.publisher.submit(record, personal)
        log.info("decision %s recorded as %s", record.get("decision"), result_id)

    def camera_pump(self, config: Config) -> CameraPump:
        """The camera thread for config.camera (over the injected camera object, if any)."""
        if self.camera is None:
            camera = open_camera(config.camera)
        else:
            camera = self.camera
            camera.configure(CameraConfig(config.camera.width, config.camera.height,
                                          config.camera.fps, config.camera.lores_width))
        return CameraPump(
            camera,
            on_frame=self.bus.post_frame,
            on_failure=lambda error: self.bus.post(ComponentFailed("camera", error)),
            capture_timeout_s=config.camera.capture_timeout_s,
            pin=camera_pin(config.camera),
            on_check=lambda check: self.bus.post(CameraChecked(check)),
        )

    def card_reader(self, config: Config) -> CardReader:
        return CardReader(config.cardreader, bus_sink(self.bus))

    def build(self) -> Daemon:
        config = self.config
        preview: Callable[[Any], None] = self.ui.set_preview if self.ui else lambda frame: None
        runner = self.new_runner(config)
        self.handler = handler = CoreHandler(runner, self.publish_view, preview,
                                              self.report_models, self.report_camera)
        self.report_models(runner)
        notifier = Notifier()
        watchdog = Watchdog(notifier, notifier.watchdog_interval_s(),
                            describe=lambda: f"ready: {handler.state()}")
        loop = CoreLoop(self.bus, handler, beat=watchdog.beat)
        self.daemon = daemon = Daemon(name=config.device.id, bus=self.bus, loop=loop,
                                      notifier=notifier)
        daemon.add("publisher", self.publisher)  # the outbox opens before any session
        if self.ui is not None:
            daemon.add("ui", self.ui)
        daemon.add("cardreader", self.card_reader(config))
        daemon.add("camera", self.camera_pump(config))
        if config.fleet.enabled:
            daemon.add("fleet", FleetComponent(config, self.config_path, self.publisher,
                                               lambda: self.fleet_services(daemon),
                                               daemon.request_restart))
        daemon.add("session", _Status(lambda: handler.status()))
        daemon.add("watchdog", watchdog)  # last: starts just before READY=1, stops first
        watchdog.add_check("publisher", lambda: bool(self.publisher.status()["running"]))
        self.logs.install()
        return daemon

    # live reconfiguration (fleet config.set) ------------------------------------------------
    def apply_config(self, new: Config, daemon: Daemon) -> dict[str, Any]:
        """Off the core loop: build the new session, restart the devices that changed (the old
        ones come back on failure, and the error propagates), then hand the new configuration
        and session to the core loop. Says which sections changed and if a restart is due."""
        old = self.config
        changed = changed_sections(old, new)
        runner = self.new_runner(new) if changed & SESSION_SECTIONS else None
        try:
            self._replace_devices(daemon, new, changed)
        except (FacetermError, OSError):
            self._replace_devices(daemon, old, changed & DEVICE_SECTIONS)
            raise
        call_on_core(self.bus, lambda: self._adopt(new, runner),
                     new.fleet.core_call_timeout_s)
        return {"changed": sorted(changed), "restart_required": bool(changed - LIVE_SECTIONS)}

    def _replace_devices(self, daemon: Daemon, config: Config, changed: set[str]) -> None:
        if "camera" in changed:
            pump = self.camera_pump(config)
            daemon.replace("camera", pump)
            timeout_s = config.camera.capture_timeout_s + 1.0
            if not pump.wait_for_frame(timeout_s):
                raise CameraError(f"the new camera delivered no frame within {timeout_s:.0f} s")
        if "cardreader" in changed:
            daemon.replace("cardreader", self.card_reader(config))

    def _adopt(self, config: Config, runner: SessionRunner | None) -> str:
        """On the core loop: the configuration in force, and the session from the next idle."""
        self.config = config
        if runner is None or self.handler is None:
            return "applied"
        return self.handler.replace_runner(runner)

    def activate_models(self, models_dir: Path) -> None:
        runner = self.new_runner(self.config, models_dir)
        call_on_core(self.bus, lambda: self._adopt(self.config, runner),
                     self.config.fleet.core_call_timeout_s)

    def fleet_services(self, daemon: Daemon) -> Services:
        """What the fleet channel may use, built when it starts (opens keys and templates)."""
        config = self.config
        timeout = config.fleet.core_call_timeout_s
        state_dir = Path(config.device.state_dir)
        ensure_enc_key(state_dir)
        templates = open_templates(config)
        store = ConfigStore(self.config_path) if self.config_path else None

        def apply(new: Config) -> dict[str, Any]:
            channel = touches_channel(self.config, new)
            result = self.apply_config(new, daemon)
            if store is not None:
                if result["restart_required"]:
                    Probation(store).begin(needs_command=channel)
                    threading.Timer(1.0, daemon.request_restart).start()
                else:
                    Probation(store).passed()
            return result

        def outbox_flush() -> dict[str, Any]:
            drained = self.publisher.wait_drained(min(timeout, 20.0))
            return {"drained": drained, "depth": self.publisher.status()["outbox"]["depth"]}

        return Services(
            config=lambda: self.config,
            status=lambda: call_on_core(self.bus, daemon.status, timeout),
            store=store if store is not None else ConfigStore(Path("/nonexistent/faceterm.toml")),
            apply_config=apply,
            keyring=load_keyring(config),
            enc_key=load_enc_key(state_dir / ENC_KEY_NAME),
            templates_put=lambda id_number, vector, model: templates.put(
                id_number, vector, model, source="bureau"),
            templates_revoke=templates.revoke,
            slots=self.slots,
            models_selftest=lambda d: report([check_models(d, self.config.vision)]),
            models_activate=self.activate_models,
            selftest=lambda: running_selftest(daemon.status(), self.slots.active_dir(),
                                              self.config.vision, state_dir),
            restart=lambda delay: threading.Timer(delay, daemon.request_restart).start(),
            logs_tail=self.logs.tail,
            outbox_flush=outbox_flush,
            clock=time.time,
        )


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
