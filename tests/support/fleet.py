"""Kiosks running in-process against a real mosquitto, and the bureau's fleet client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from device.compose import Kiosk
from device.config import load
from device.daemon import Daemon
from device.demo.broker import FLEET_ACL, Mosquitto
from device.demo.site import REPO_MODELS, Site
from device.fleet.client import Endpoint, FleetClient
from device.fleet.sign import sign_command
from device.publish.identity import load_registry
from device.publish.mqtt import LinkConfig

NO_CARD = {"repeat": True, "steps": [{"absent_s": 1.0}]}


def kiosk_sections(folder: Path, **extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cards = folder / "no-card.json"
    cards.write_text(json.dumps(NO_CARD))
    sections: dict[str, dict[str, Any]] = {
        "cardreader": {"type": "sim", "sim_script": str(cards)},
        "camera": {"type": "replay", "replay_path": str(REPO_MODELS / "golden"), "fps": 2.0},
        "liveness": {"enabled": False},
    }
    for name, values in extra.items():
        sections.setdefault(name, {}).update(values)
    return sections


class RunningKiosk:
    """A full kiosk daemon on a thread (the core loop ignores signals off the main thread)."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.kiosk: Kiosk | None = None
        self.daemon: Daemon | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = 30.0) -> RunningKiosk:
        self.kiosk = Kiosk(load(self.config_path), self.config_path)
        self.daemon = self.kiosk.build()
        self._thread = threading.Thread(target=self.daemon.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.kiosk.publisher.status()["connected"]:
            if time.monotonic() > deadline:
                raise TimeoutError("kiosk did not connect to the broker")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.daemon is not None and self._thread is not None:
            self.daemon.loop.stop()
            self._thread.join(30)
        if self.kiosk is not None:
            self.kiosk.logs.remove()


@contextmanager
def site_and_broker(folder: Path) -> Iterator[tuple[Site, Mosquitto]]:
    site = Site.create(folder / "site")
    broker = Mosquitto(site.ca_cert, site.server_cert, site.server_key, folder / "broker",
                       extra_acl=FLEET_ACL)
    with broker:
        yield site, broker


def fleet_client(site: Site, broker: Mosquitto, tenant: str = "demo") -> FleetClient:
    cert, key = site.client_files("fleet")
    link = LinkConfig(broker.host, broker.port, str(site.ca_cert), str(cert), str(key), "fleet")
    endpoint = Endpoint(link, tenant=tenant)
    client = FleetClient(endpoint, load_registry(site.registry))
    client.connect()
    return client


def ask(client: FleetClient, device: str, token: str | bytes, command: str = "x",
        timeout_s: float = 20.0) -> dict[str, Any]:
    """Send one token to one device and return its final reply."""
    with client.collected.lock:
        client.collected.replies.pop(device, None)
    raw = token if isinstance(token, str) else token.decode("latin-1")
    client.send([device], raw, command)
    replies = client.wait({device}, timeout_s)
    if device not in replies:
        raise TimeoutError(f"no reply from {device}")
    return replies[device]


def signed(site: Site, device: str, command: str, params: dict[str, Any] | None = None,
           **kwargs: Any) -> str:
    return sign_command(site.operator(), site.operator_kid, device, command, params, **kwargs)


def add_operator(kiosk_config: Path, entry: dict[str, Any]) -> None:
    """Append one operator entry to a provisioned kiosk's operators.json."""
    operators = kiosk_config.parent / "operators.json"
    data = json.loads(operators.read_text())
    data["operators"].append(entry)
    operators.write_text(json.dumps(data))
