"""Bureau side of the fleet channel: send signed commands, collect the devices' signed replies,
read retained status and telemetry. Used by `faceterm-fleet` and by tests."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device.errors import FacetermError
from device.publish.mqtt import LinkConfig, LinkHooks, MqttLink

FINAL = frozenset({"SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT"})
OUTGOING_MAX = 10_000  # commands waiting for the link's thread (a fleet is a few thousand)


@dataclass(frozen=True, slots=True)
class Endpoint:
    link: LinkConfig  # the broker, the TLS files and the fleet identity's client id
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
    """One MQTT v5 connection as the bureau's fleet identity, over device.publish.mqtt.MqttLink
    (the same client, TLS set-up and reconnect backoff as the kiosk's) on its own thread."""

    def __init__(self, endpoint: Endpoint, registry: dict[str, OKPKey]) -> None:
        self.endpoint = endpoint
        self.registry = registry
        self.session = secrets.token_hex(6)
        self.collected = Collected()
        self.retained: dict[str, dict[str, Any]] = {}
        self._link: MqttLink | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._outgoing: queue.Queue[tuple[str, bytes, Properties]] = queue.Queue(OUTGOING_MAX)
        self._unacked = 0
        self._acks = threading.Condition()

    def connect(self, timeout_s: float = 10.0) -> None:
        e = self.endpoint
        config = dataclasses.replace(e.link, connect_timeout_s=timeout_s)
        hooks = LinkHooks(connected=self._on_connected, message=self._on_message,
                          acked=self._on_acked)
        self._link = MqttLink(config, hooks)
        self._stop.clear()
        self._thread = threading.Thread(target=self._link.run, args=(self._stop, self._tick),
                                        name="fleet-client", daemon=True)
        self._thread.start()
        if not self._connected.wait(timeout_s):
            self.close()
            raise FacetermError(
                f"no connection to {config.host}:{config.port} within {timeout_s} s")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
            self._thread = None
        self._link = None
        self._connected.clear()

    def send(self, devices: Iterable[str], token: str, command: str,
             timeout_s: float = 10.0) -> None:
        """Publish one signed token to each device's cmd topic, asking for replies; return
        once the broker has acknowledged them all (FacetermError after timeout_s)."""
        if self._link is None:
            raise FacetermError("not connected")
        e = self.endpoint
        for device in devices:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.ResponseTopic = f"{e.prefix}/{e.tenant}/{device}/reply/{self.session}"
            props.CorrelationData = f"{device}:{self.session}".encode()
            with self._acks:
                self._unacked += 1
            self._outgoing.put((f"{e.prefix}/{e.tenant}/{device}/cmd/{command}",
                                token.encode(), props), timeout=timeout_s)
        with self._acks:
            if not self._acks.wait_for(lambda: self._unacked == 0, timeout_s):
                raise FacetermError(f"the broker did not acknowledge within {timeout_s} s")

    def _tick(self) -> None:
        """On the link's thread: hand queued commands to the client."""
        while self._link is not None and self._link.connected:
            try:
                topic, payload, props = self._outgoing.get_nowait()
            except queue.Empty:
                return
            self._link.publish(topic, payload, qos=1, properties=props)

    def _on_connected(self) -> None:
        assert self._link is not None
        e = self.endpoint
        base = f"{e.prefix}/{e.tenant}/+"
        for suffix in (f"reply/{self.session}", "status", "telemetry"):
            self._link.subscribe(f"{base}/{suffix}", qos=1)
        self._connected.set()

    def _on_acked(self, mid: int, code: int, reason: str) -> None:
        with self._acks:
            self._unacked = max(0, self._unacked - 1)
            self._acks.notify_all()

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

    def _on_message(self, topic: str, payload: bytes, props: Properties | None) -> None:
        parts = topic.split("/")
        device = parts[-2] if parts[-1] in ("status", "telemetry") else parts[-3]
        if parts[-1] == "status":
            self.retained.setdefault(device, {})["status"] = payload.decode(errors="replace")
        elif parts[-1] == "telemetry":
            with contextlib.suppress(ValueError):
                self.retained.setdefault(device, {})["telemetry"] = json.loads(payload)
        else:
            self._on_reply(payload)

    def _on_reply(self, payload: bytes) -> None:
        try:
            device, reply = verify_reply(payload, self.registry)
        except FacetermError:
            with self.collected.lock:
                self.collected.bad_signatures += 1
            return
        with self.collected.lock:
            self.collected.replies[device] = reply
