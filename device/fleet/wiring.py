"""The fleet channel wired to a running kiosk: the services its command handlers use."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from device.cardreader.bus import bus_sink
from device.cardreader.reader import CardReader
from device.config import Config
from device.daemon import Daemon, camera_component
from device.errors import CameraError, CommandRejected, FacetermError
from device.events import Call
from device.fleet.auth import Audience
from device.fleet.channel import FleetChannel
from device.fleet.configstore import ConfigStore, Probation
from device.fleet.guard import touches_channel
from device.fleet.handlers import Services, build
from device.fleet.jobs import JobRunner, Policy
from device.fleet.keyring import Keyring
from device.fleet.replay import EPOCH_NAME, JobStore
from device.fleet.sealed import ENC_KEY_NAME, ensure_enc_key, load_enc_key
from device.publish import identity
from device.selftest import Check, check_clock, check_disk, check_models, guarded, report
from device.session.handler import open_templates

if TYPE_CHECKING:
    from device.compose import Kiosk

log = logging.getLogger(__name__)
T = TypeVar("T")
# [fleet] and [mqtt] are read at start-up only: changing them needs a restart (and probation).
LIVE_SECTIONS = frozenset({"camera", "cardreader", "session", "liveness", "vision"})


def on_core(kiosk: Kiosk, function: Callable[[], T], timeout_s: float) -> T:
    """Run function on the core loop (the owner of session state) and return its result."""
    reply: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    kiosk.bus.post(Call(function, reply), timeout_s=timeout_s)
    try:
        ok, value = reply.get(timeout=timeout_s)
    except queue.Empty:
        raise CommandRejected("busy", f"core loop did not answer within {timeout_s} s") from None
    if not ok:
        raise value
    result: T = value
    return result


def apply_config(kiosk: Kiosk, daemon: Daemon, new: Config) -> dict[str, Any]:
    """On the core loop: restart what changed, or swap the session; say if a restart is due."""
    old = kiosk.config
    changed = {name for name in Config.model_fields if getattr(new, name) != getattr(old, name)}
    try:
        _apply_sections(kiosk, daemon, new, changed)
    except (FacetermError, OSError):
        _apply_sections(kiosk, daemon, old, changed & {"camera", "cardreader"})
        raise
    kiosk.config = new
    daemon.config = new
    return {"changed": sorted(changed), "restart_required": bool(changed - LIVE_SECTIONS)}


def _apply_sections(kiosk: Kiosk, daemon: Daemon, config: Config, changed: set[str]) -> None:
    if "camera" in changed:
        pump = camera_component(config, kiosk.bus)
        daemon.replace("camera", pump)
        _wait_for_frames(pump, config.camera.capture_timeout_s + 1.0)
    if "cardreader" in changed:
        daemon.replace("cardreader", CardReader(config.cardreader, bus_sink(kiosk.bus)))
    if changed & {"session", "liveness", "vision"} and kiosk.handler is not None:
        kiosk.handler.replace_runner(kiosk.new_runner(config))


def _wait_for_frames(pump: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while pump.frames == 0:
        if time.monotonic() > deadline:
            raise CameraError(f"the new camera delivered no frame within {timeout_s:.0f} s")
        time.sleep(0.05)


def full_selftest(kiosk: Kiosk, daemon: Daemon) -> dict[str, Any]:
    state_dir = Path(kiosk.config.device.state_dir)
    status = daemon.status()
    checks = [
        check_models(kiosk.slots.active_dir(), kiosk.config.vision),
        guarded("camera", lambda: _frames(status.get("camera", {}))),
        guarded("cardreader", lambda: _reader(status.get("cardreader", {}))),
        guarded("broker", lambda: _broker(status.get("publisher", {}))),
        check_clock(),
        check_disk(state_dir),
    ]
    from device.liveness.antispoof import selftest_report

    spoof = selftest_report(kiosk.slots.active_dir())
    checks.append(Check("antispoof", spoof.get("antispoof") != "error", str(spoof["detail"])))
    return report(checks)


def _frames(camera: dict[str, Any]) -> str:
    if not camera.get("frames"):
        raise RuntimeError("no frame captured yet")
    return f"{camera['frames']} frames, {camera.get('restarts', 0)} restarts"


def _reader(reader: dict[str, Any]) -> str:
    if not reader.get("connected"):
        raise RuntimeError("ID-card reader not connected (SAM not answering)")
    return f"SAM answering on {reader.get('port')}"


def _broker(publisher: dict[str, Any]) -> str:
    if not publisher.get("connected"):
        raise RuntimeError(f"broker not reachable: {publisher.get('last_error')}")
    return f"connected; outbox depth {publisher.get('outbox', {}).get('depth')}"


class FleetComponent:
    """The fleet channel and the configuration probation, as one daemon component."""

    def __init__(self, kiosk: Kiosk, daemon: Daemon) -> None:
        self._kiosk = kiosk
        self._daemon = daemon
        config = kiosk.config
        epoch = config.state_path(config.identity.device_key).parent / EPOCH_NAME
        self._store = JobStore(config.state_path("fleet-jobs.sqlite3"), epoch)
        self.channel: FleetChannel | None = None
        self._probation: Probation | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        kiosk, config = self._kiosk, self._kiosk.config
        self._store.open()
        forgotten = self._store.purge(time.time())
        if forgotten:
            log.info("forgot %d fleet jobs whose commands expired", forgotten)
        keyring = _keyring(config)
        services = _services(kiosk, self._daemon, keyring)
        runner = JobRunner(keyring, self._store, Policy(
            Audience(config.device.id, tuple(config.fleet.groups)),
            config.fleet.clock_skew_s, config.fleet.max_payload_bytes), build(services))
        key = identity.load_signing_key(config.state_path(config.identity.device_key))
        self.channel = FleetChannel(runner, kiosk.publisher.send, kiosk.publisher.topics, key,
                                    config.fleet.job_queue_size)
        kiosk.publisher.on_command = self.channel.on_command
        self.channel.start()
        if kiosk.config_path is not None:
            self._probation = Probation(ConfigStore(kiosk.config_path))
            if self._probation.pending:
                threading.Thread(target=self._watch_probation, name="config-probation",
                                 daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self.channel is not None:
            self._kiosk.publisher.on_command = None
            self.channel.stop()
        self._store.close()

    def status(self) -> dict[str, Any]:
        return self.channel.status() if self.channel else {}

    def _watch_probation(self) -> None:
        """A restart-requiring config.set must reach the broker within the probation time."""
        assert self._probation is not None
        deadline = time.monotonic() + self._kiosk.config.fleet.config_probation_s
        needs_command = self._probation.needs_command
        if needs_command:
            log.warning("the fleet channel changed: the new configuration passes only once a "
                        "signed command is verified within %.0f s",
                        self._kiosk.config.fleet.config_probation_s)
        while not self._stop.wait(0.5):
            if self._proved(needs_command):
                self._probation.passed()
                log.info("new configuration passed its health check")
                return
            if time.monotonic() > deadline:
                log.error("new configuration failed its health check: rolling back, restarting")
                self._probation.failed()
                self._daemon.request_restart()
                return


    def _proved(self, needs_command: bool) -> bool:
        if not self._kiosk.publisher.status()["connected"]:
            return False
        return not needs_command or self.status().get("accepted", 0) > 0


def _keyring(config: Config) -> Keyring:
    path = config.state_path(config.fleet.operators_file)
    if not path.exists():
        log.warning("no operator keys at %s: every fleet command will be refused", path)
        return Keyring({})
    return Keyring.load(path)


def _services(kiosk: Kiosk, daemon: Daemon, keyring: Keyring) -> Services:
    config = kiosk.config
    timeout = config.fleet.core_call_timeout_s
    state_dir = Path(config.device.state_dir)
    ensure_enc_key(state_dir)
    templates = open_templates(config)
    store = ConfigStore(kiosk.config_path) if kiosk.config_path else None

    def apply(new: Config) -> dict[str, Any]:
        channel = touches_channel(kiosk.config, new)
        result = on_core(kiosk, lambda: apply_config(kiosk, daemon, new), timeout)
        if store is not None:
            if result["restart_required"]:
                Probation(store).begin(needs_command=channel)
                threading.Timer(1.0, daemon.request_restart).start()
            else:
                Probation(store).passed()
        return result

    def activate(models_dir: Path) -> None:
        runner = kiosk.new_runner(kiosk.config, models_dir)
        on_core(kiosk, lambda: kiosk.handler.replace_runner(runner) if kiosk.handler else "",
                timeout)

    def outbox_flush() -> dict[str, Any]:
        drained = kiosk.publisher.wait_drained(min(timeout, 20.0))
        return {"drained": drained, "depth": kiosk.publisher.status()["outbox"]["depth"]}

    return Services(
        config=lambda: kiosk.config,
        status=lambda: on_core(kiosk, daemon.status, timeout),
        store=store if store is not None else _no_store(),
        apply_config=apply,
        keyring=keyring,
        enc_key=load_enc_key(state_dir / ENC_KEY_NAME),
        templates_put=lambda id_number, vector, model: templates.put(
            id_number, vector, model, source="bureau"),
        templates_revoke=templates.revoke,
        slots=kiosk.slots,
        models_selftest=lambda d: report([check_models(d, kiosk.config.vision)]),
        models_activate=activate,
        selftest=lambda: full_selftest(kiosk, daemon),
        restart=lambda delay: threading.Timer(delay, daemon.request_restart).start(),
        logs_tail=kiosk.logs.tail,
        outbox_flush=outbox_flush,
        clock=time.time,
    )


def _no_store() -> ConfigStore:
    return ConfigStore(Path("/nonexistent/faceterm.toml"))


def build_fleet(kiosk: Kiosk, daemon: Daemon) -> FleetComponent:
    return FleetComponent(kiosk, daemon)
