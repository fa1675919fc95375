"""A real mosquitto for tests (device.demo.broker.Mosquitto) built from a TestPki.

    pki = TestPki.create(tmp_path / "pki")
    with Broker(pki, tmp_path / "broker") as broker:      # started, accepting
        client = broker.client(pki.client("dev-1"))       # connected paho client (MQTT v5)
        ...
        broker.stop(); broker.start()                     # outage on the same port

Each device (certificate CN = device id) may only use `faceterm/v1/<tenant>/<its id>/#`; the
`bureau` identity reads result/status/telemetry of every device and writes their cmd topics.
Pass `extra_acl` lines (appended at the end, e.g. a `user fleet` block) for other identities.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from device.demo.broker import DEFAULT_ACL, FLEET_ACL, PREFIX, Bridge, Mosquitto, free_port
from tests.support.pki import ClientFiles, TestPki

__all__ = ["DEFAULT_ACL", "FLEET_ACL", "PREFIX", "Broker", "free_port"]


class Broker(Mosquitto):
    def __init__(
        self,
        pki: TestPki,
        workdir: Path,
        *,
        port: int | None = None,
        extra_acl: Sequence[str] = (),
        acl: Sequence[str] = DEFAULT_ACL,
        bridge: Bridge | None = None,
    ) -> None:
        super().__init__(pki.ca_cert, pki.server_cert, pki.server_key, workdir, port=port,
                         extra_acl=extra_acl, acl=acl, bridge=bridge)
        self.pki = pki

    def __enter__(self) -> Broker:
        self.start()
        return self

    # helpers -------------------------------------------------------------------------------
    def client(
        self, files: ClientFiles, client_id: str | None = None, timeout_s: float = 10.0
    ) -> mqtt.Client:
        """A connected MQTT v5 paho client (loop running) for an identity; caller disconnects."""
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or files.name,
            protocol=mqtt.MQTTv5,
        )
        client.tls_set(
            ca_certs=str(files.ca), certfile=str(files.cert), keyfile=str(files.key),
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
        connected = threading.Event()
        client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
        client.connect(self.host, self.port, keepalive=30)
        client.loop_start()
        if not connected.wait(timeout_s):
            client.loop_stop()
            raise TimeoutError(f"{files.name} could not connect to the test broker")
        return client

