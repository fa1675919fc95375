"""The fleet channel and the configuration probation, as one daemon component.

It depends on `Services` (device/fleet/handlers.py), which the composition root
(device/compose.py) builds: the fleet package never sees the kiosk itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device.config import Config
from device.fleet.auth import Audience
from device.fleet.channel import FleetChannel
from device.fleet.configstore import ConfigStore, Probation
from device.fleet.handlers import Services, build
from device.fleet.jobs import JobPolicy, JobRunner
from device.fleet.keyring import Keyring
from device.fleet.replay import EPOCH_NAME, JobStore
from device.publish import identity
from device.publish.publisher import Publisher

log = logging.getLogger(__name__)


class FleetComponent:
    """Starts the fleet channel over the publisher's connection with the services it is lent."""

    def __init__(
        self,
        config: Config,
        config_path: Path | None,
        publisher: Publisher,
        services: Callable[[], Services],
        request_restart: Callable[[], None],
    ) -> None:
        self._config = config
        self._config_path = config_path
        self._publisher = publisher
        self._services = services
        self._request_restart = request_restart
        epoch = config.state_path(config.identity.device_key).parent / EPOCH_NAME
        self._store = JobStore(config.state_path("fleet-jobs.sqlite3"), epoch)
        self.channel: FleetChannel | None = None
        self._probation: Probation | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        config, publisher = self._config, self._publisher
        self._store.open()
        forgotten = self._store.purge(time.time())
        if forgotten:
            log.info("forgot %d fleet jobs whose commands expired", forgotten)
        services = self._services()
        runner = JobRunner(services.keyring, self._store, JobPolicy(
            Audience(config.device.id, tuple(config.fleet.groups)),
            config.fleet.clock_skew_s, config.fleet.max_payload_bytes), build(services))
        key = identity.load_signing_key(config.state_path(config.identity.device_key))
        self.channel = FleetChannel(runner, publisher.send, publisher.topics, key,
                                    config.fleet.job_queue_size)
        publisher.on_command = self.channel.on_command
        self.channel.start()
        if self._config_path is not None:
            self._probation = Probation(ConfigStore(self._config_path))
            if self._probation.pending:
                threading.Thread(target=self._watch_probation, name="config-probation",
                                 daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self.channel is not None:
            self._publisher.on_command = None
            self.channel.stop()
        self._store.close()

    def status(self) -> dict[str, Any]:
        return self.channel.status() if self.channel else {}

    def _watch_probation(self) -> None:
        """A restart-requiring config.set must reach the broker within the probation time; one
        of the fleet channel must also see a signed command verified."""
        assert self._probation is not None
        deadline = time.monotonic() + self._config.fleet.config_probation_s
        needs_command = self._probation.needs_command
        if needs_command:
            log.warning("the fleet channel changed: the new configuration passes only once a "
                        "signed command is verified within %.0f s",
                        self._config.fleet.config_probation_s)
        while not self._stop.wait(0.5):
            if self._proved(needs_command):
                self._probation.passed()
                log.info("new configuration passed its health check")
                return
            if time.monotonic() > deadline:
                log.error("new configuration failed its health check: rolling back, restarting")
                self._probation.failed()
                self._request_restart()
                return


    def _proved(self, needs_command: bool) -> bool:
        if not self._publisher.status()["connected"]:
            return False
        return not needs_command or self.status().get("accepted", 0) > 0


def load_keyring(config: Config) -> Keyring:
    """The operators' keys (none: every fleet command is refused, loudly)."""
    path = config.state_path(config.fleet.operators_file)
    if not path.exists():
        log.warning("no operator keys at %s: every fleet command will be refused", path)
        return Keyring({})
    return Keyring.load(path)
