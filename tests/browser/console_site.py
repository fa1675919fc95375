"""A bureau console on a real mosquitto for the browser tests: uvicorn on a free loopback port,
the fleet recorder on the broker, kiosks as MQTT clients with their retained availability and
last will, and results stored through the receiver's ResultStore."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import uvicorn
from joserfc.jwk import OKPKey

from device.bureau.console.app import build_app
from device.bureau.console.queries import Queries
from device.bureau.console.recorder import FleetRecorder
from device.bureau.console.views import CommandSigner
from device.demo.broker import FLEET_ACL, PREFIX, free_port
from device.fleet.keyring import ROLES as KEY_ROLES
from device.publish.mqtt import LinkConfig
from tests.support.broker import Broker
from tests.support.console import console, seed_results
from tests.support.pki import TestPki

KIOSKS = (("district-1", "kiosk-1"), ("district-1", "kiosk-2"), ("district-2", "kiosk-3"))


@dataclass
class Site:
    url: str
    broker: Broker
    queries: Queries
    kiosks: dict[str, mqtt.Client]
    device_keys: dict[str, OKPKey]
    operator_key: OKPKey
    stored: int


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def kiosk_client(broker: Broker, pki: TestPki, tenant: str, device: str) -> mqtt.Client:
    """A kiosk's MQTT identity: last will `offline`, then retained `online` (as the Publisher)."""
    files = pki.client(device)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device,
                         protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(files.ca), certfile=str(files.cert), keyfile=str(files.key))
    status = f"{PREFIX}/{tenant}/{device}/status"
    client.will_set(status, b"offline", qos=1, retain=True)
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: connected.set()
    client.connect(broker.host, broker.port, keepalive=5)
    client.loop_start()
    if not connected.wait(10):
        raise TimeoutError(f"{device} did not connect")
    client.publish(status, b"online", qos=1, retain=True).wait_for_publish(5)
    return client


def telemetry(client: mqtt.Client, tenant: str, device: str, **fields: Any) -> None:
    payload = {"uptime_s": 120.0, "time": int(time.time()), "outbox_depth": 0,
               "last_error": None, "models": {"sface_fp16": "1.0"}, "version": "0.1.0",
               "outbox_capacity": 100_000, "camera": "imx708-0001", **fields}
    client.publish(f"{PREFIX}/{tenant}/{device}/telemetry", json.dumps(payload),
                   qos=1).wait_for_publish(5)


@contextmanager
def console_site(tmp: Path) -> Iterator[Site]:
    pki = TestPki.create(tmp / "pki")
    db_path = tmp / "results.sqlite3"
    stored = seed_results(db_path, KIOSKS, 21)
    with Broker(pki, tmp / "broker", extra_acl=FLEET_ACL) as broker:
        app_console = console(db_path)
        device_keys = {d: OKPKey.generate_key("Ed25519") for _, d in KIOSKS}
        fleet = pki.client("fleet")
        link = LinkConfig(host=broker.host, port=broker.port, ca_cert=str(fleet.ca),
                          client_cert=str(fleet.cert), client_key=str(fleet.key),
                          client_id="console", reconnect_min_s=0.1, reconnect_max_s=1.0)
        recorder = FleetRecorder(link, device_keys, app_console.queries)
        operator_key = OKPKey.generate_key("Ed25519")
        app_console.signer = CommandSigner(operator_key, "alice-2026", KEY_ROLES["operator"])
        app_console.recorder = recorder
        recorder.start()
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(build_app(app_console), host="127.0.0.1",
                                               port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        kiosks = {d: kiosk_client(broker, pki, t, d) for t, d in KIOSKS}
        try:
            wait_for(lambda: server.started, "the console to listen")
            yield Site(f"http://127.0.0.1:{port}", broker, app_console.queries, kiosks,
                       device_keys, operator_key, stored)
        finally:
            server.should_exit = True
            thread.join(10)
            recorder.stop()
            for client in kiosks.values():
                client.loop_stop()
                client.disconnect()
