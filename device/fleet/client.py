"""Bureau side of the fleet channel: send signed commands, collect the devices' signed replies,
read retained status and telemetry. Used by `faceterm-fleet` and by tests."""

from __future__ import annotations

import contextlib
import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device.errors import FacetermError

FINAL = frozenset({"SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    ca_cert: str
    client_cert: str
    client_key: str
    client_id: str
    prefix: str = "faceterm/v1"
    tenant: str = "default"


@dataclass
class Collected:
    """Replies by device: the last one seen (progress replies are overwritten by final ones)."""

    replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def final(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {d: r for d, r in self.replies.items() if r.get("status") in FINAL}


def verify_reply(token: bytes, registry: dict[str, OKPKey]) -> tuple[str, dict[str, Any]]:
    """(device id, reply) of a device-signed reply; FacetermError if it does not verify."""
    try:
        header = jws.extract_compact(token).headers()
        device = str(header.get("kid", ""))
        key = registry[device]
        claims = json.loads(jws.deserialize_compact(token, key, algorithms=["Ed25519"]).payload)
    except (JoseError, KeyError, ValueError) as exc:
        raise FacetermError(f"reply does not verify: {type(exc).__name__}") from exc
    if claims.get("iss") != device or not isinstance(claims.get("reply"), dict):
        raise FacetermError("reply claims are malformed")
    return device, claims["reply"]


class FleetClient:
    """One MQTT v5 connection as the bureau's fleet identity."""

    def __init__(self, endpoint: Endpoint, registry: dict[str, OKPKey]) -> None:
        self.endpoint = endpoint
        self.registry = registry
        self.session = secrets.token_hex(6)
        self.collected = Collected()
        self.retained: dict[str, dict[str, Any]] = {}
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()

    def connect(self, timeout_s: float = 10.0) -> None:
        e = self.endpoint
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=e.client_id,
                             protocol=mqtt.MQTTv5)
        client.tls_set(ca_certs=e.ca_cert, certfile=e.client_cert, keyfile=e.client_key,
                       cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = lambda c, u, f, reason, p: self._connected.set()
        client.on_message = self._on_message
        client.connect(e.host, e.port, keepalive=30)
        client.loop_start()
        self._client = client
        if not self._connected.wait(timeout_s):
            self.close()
            raise FacetermError(f"no connection to {e.host}:{e.port} within {timeout_s} s")
        base = f"{e.prefix}/{e.tenant}/+"
        for suffix in (f"reply/{self.session}", "status", "telemetry"):
            client.subscribe(f"{base}/{suffix}", qos=1)

    def close(self) -> None:
        if self._client is not None:
            self._client.loop_stop()
            self._client.disconnect()
            self._client = None

    def send(self, devices: Iterable[str], token: str, command: str) -> None:
        """Publish one signed token to each device's cmd topic, asking for replies."""
        if self._client is None:
            raise FacetermError("not connected")
        e = self.endpoint
        for device in devices:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.ResponseTopic = f"{e.prefix}/{e.tenant}/{device}/reply/{self.session}"
            props.CorrelationData = f"{device}:{self.session}".encode()
            info = self._client.publish(f"{e.prefix}/{e.tenant}/{device}/cmd/{command}",
                                        token.encode(), qos=1, properties=props)
            info.wait_for_publish(timeout=10.0)

    def wait(self, devices: set[str], timeout_s: float,
             progress: Callable[[int], None] = lambda n: None) -> dict[str, dict[str, Any]]:
        """Wait until every device has a final reply or the timeout passes."""
        deadline = time.monotonic() + timeout_s
        seen = 0
        while time.monotonic() < deadline:
            done = self.collected.final()
            count = len(set(done) & devices)
            if count != seen:
                progress(count - seen)
                seen = count
            if count == len(devices):
                break
            time.sleep(0.05)
        return {d: r for d, r in self.collected.final().items() if d in devices}

    def discover(self, wait_s: float = 1.0) -> dict[str, dict[str, Any]]:
        """Devices known from retained status (and telemetry seen within wait_s)."""
        time.sleep(wait_s)
        return dict(self.retained)

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        device = parts[-2] if parts[-1] in ("status", "telemetry") else parts[-3]
        if parts[-1] == "status":
            self.retained.setdefault(device, {})["status"] = msg.payload.decode(errors="replace")
        elif parts[-1] == "telemetry":
            with contextlib.suppress(ValueError):
                self.retained.setdefault(device, {})["telemetry"] = json.loads(msg.payload)
        else:
            self._on_reply(bytes(msg.payload))

    def _on_reply(self, payload: bytes) -> None:
        try:
            device, reply = verify_reply(payload, self.registry)
        except FacetermError:
            with self.collected.lock:
                self.collected.bad_signatures += 1
            return
        with self.collected.lock:
            self.collected.replies[device] = reply
