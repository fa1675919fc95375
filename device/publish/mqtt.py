"""An MQTT v5 link over TLS with client certificates, owned by exactly one thread.

paho-mqtt 2.x with CallbackAPIVersion.VERSION2. The owning thread calls run(stop, tick): it
connects (socket and TLS handshake bounded by connect_timeout_s, CONNACK too), drives the paho
loop, and calls tick() between loop steps, where the caller may publish(). A lost or refused
connection is retried with exponential backoff, full-jitter between half and all of the delay,
capped at reconnect_max_s, reset only after the broker accepted. Every paho call happens in the
owning thread, so no socket is ever written from two threads.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device.backoff import Backoff

log = logging.getLogger(__name__)

BURST = 256  # packets read back to back before the owner's tick (group commit)
# MQTT 5 reason codes (PUBACK) that say "this message will never be accepted as it is": any
# failure (>= 0x80) except "packet identifier in use" (0x91), which concerns the packet, not
# the message. 0x87 not authorised, 0x90 topic name invalid, 0x97 quota exceeded, 0x99
# payload format invalid are the usual ones.
FAILURE = 0x80
PACKET_ID_IN_USE = 0x91


def permanent_reject(code: int) -> bool:
    """True if a PUBACK with this reason code refuses the message for good (retrying the same
    bytes on the same topic cannot succeed)."""
    return code >= FAILURE and code != PACKET_ID_IN_USE
MessageHook = Callable[[str, bytes, Properties | None], None]


@dataclass(frozen=True, slots=True)
class LinkConfig:
    host: str
    port: int
    ca_cert: str
    client_cert: str
    client_key: str
    client_id: str
    keepalive_s: int = 30
    connect_timeout_s: float = 10.0
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    will_topic: str | None = None
    will_payload: bytes = b"offline"
    max_inflight: int = 32
    clean_start: bool = True
    session_expiry_s: int = 0
    manual_ack: bool = False  # inbound QoS 1 is acked only by flush_acks(), after a commit
    fallbacks: tuple[tuple[str, int], ...] = ()  # more brokers (host, port), tried in turn

    def brokers(self) -> tuple[tuple[str, int], ...]:
        return ((self.host, self.port), *self.fallbacks)


@dataclass
class LinkHooks:
    """Callbacks, all run in the link's own thread."""

    connected: Callable[[], None] = lambda: None
    disconnected: Callable[[str], None] = lambda reason: None
    acked: Callable[[int, int, str], None] = lambda mid, code, reason: None  # PUBACK code
    message: MessageHook = lambda topic, payload, props: None
    subscribed: Callable[[bool], None] = lambda granted: None


class MqttLink:
    def __init__(self, config: LinkConfig, hooks: LinkHooks) -> None:
        self.config = config
        self.hooks = hooks
        self.backoff = Backoff(config.reconnect_min_s, config.reconnect_max_s)
        self.connected = False
        self.connects = 0
        self.failures = 0
        self.last_error = ""
        self.broker = 0  # index into config.brokers() of the one in use or tried next
        self._client: mqtt.Client | None = None
        self._unacked: list[tuple[int, int]] = []
        self._events = 0  # inbound publishes and acks seen, to know when a burst ends

    # ----------------------------------------------------------------------- client set-up
    def _make_client(self) -> mqtt.Client:
        cfg = self.config
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cfg.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=cfg.manual_ack)
        client.tls_set(ca_certs=cfg.ca_cert, certfile=cfg.client_cert, keyfile=cfg.client_key,
                       cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.connect_timeout = cfg.connect_timeout_s
        client.max_inflight_messages_set(cfg.max_inflight)
        client.max_queued_messages_set(0)
        if cfg.will_topic:
            client.will_set(cfg.will_topic, cfg.will_payload, qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    props: Any) -> None:
        if reason.is_failure:
            self._error(f"broker refused connection: {reason}")
            return
        self.connected = True
        self.connects += 1
        self.backoff.reset()
        host, port = self.config.brokers()[self.broker]
        log.info("mqtt: connected to %s:%d as %s", host, port, self.config.client_id)
        self._guard(self.hooks.connected)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       props: Any) -> None:
        was = self.connected
        self.connected = False
        if was:
            log.warning("mqtt: disconnected: %s", reason)
            self._guard(lambda: self.hooks.disconnected(str(reason)))

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any,
                    props: Any) -> None:
        self._events += 1
        if reason.is_failure:
            self._error(f"publish refused by broker: {reason} ({reason.value})")
        self._guard(lambda: self.hooks.acked(mid, int(reason.value), str(reason)))

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any,
                      props: Any) -> None:
        granted = all(not reason.is_failure for reason in reasons)
        if not granted:
            self._error(f"subscription refused: {[str(r) for r in reasons]}")
        self._guard(lambda: self.hooks.subscribed(granted))

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._events += 1
        props = getattr(msg, "properties", None)
        try:
            self.hooks.message(msg.topic, bytes(msg.payload), props)
        except Exception:  # a callback boundary
            log.exception("mqtt: message handler failed on %s", msg.topic)
            if self.config.manual_ack:  # not acknowledged: reconnect to get it again
                self.drop_connection()
                return
        if self.config.manual_ack and msg.qos > 0:
            self._unacked.append((msg.mid, msg.qos))

    def flush_acks(self) -> None:
        """Acknowledge every message handled so far (owning thread, after it is durable)."""
        acks, self._unacked = self._unacked, []
        if self._client is not None:
            for mid, qos in acks:
                self._client.ack(mid, qos)

    def drop_connection(self) -> None:
        """Forget unacknowledged messages and disconnect; the broker will send them again."""
        self._unacked = []
        if self._client is not None:
            self._client.disconnect()

    def _guard(self, call: Callable[[], None]) -> None:
        try:
            call()
        except Exception:  # a callback boundary: log, keep the link alive
            log.exception("mqtt: callback failed")

    def _error(self, text: str) -> None:
        self.last_error = text
        log.warning("mqtt: %s", text)

    # ----------------------------------------------------------------------- the loop
    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                properties: Properties | None = None) -> int:
        """Hand a message to paho (owning thread only); returns its mid."""
        if self._client is None:
            raise RuntimeError("link is not running")
        info = self._client.publish(topic, payload, qos=qos, retain=retain,
                                    properties=properties)
        return int(info.mid)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        if self._client is not None:
            self._client.subscribe(topic, qos=qos)

    def run(self, stop: threading.Event, tick: Callable[[], None],
            step_s: float = 0.05) -> None:
        """Connect, loop and reconnect until stop is set; then disconnect cleanly."""
        self._client = client = self._make_client()
        try:
            while not stop.is_set():
                if self._connect(client):
                    self._drive(client, stop, tick, step_s)
                if not stop.is_set():
                    self.failures += 1
                    self._fail_over()
                    stop.wait(self.backoff.next())
        finally:
            self._close(client, tick)

    def _fail_over(self) -> None:
        """After a refused or lost connection, the next broker in the list gets the next try;
        the outbox is the publisher's, so nothing queued is lost by moving."""
        count = len(self.config.brokers())
        if count > 1:
            self.broker = (self.broker + 1) % count
            host, port = self.config.brokers()[self.broker]
            log.warning("mqtt: failing over to %s:%d", host, port)

    def _connect(self, client: mqtt.Client) -> bool:
        cfg = self.config
        host, port = cfg.brokers()[self.broker]
        props = None
        if cfg.session_expiry_s:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = cfg.session_expiry_s
        try:
            client.connect(host, port, keepalive=cfg.keepalive_s,
                           clean_start=cfg.clean_start, properties=props)
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._error(f"cannot connect to {host}:{port}: {exc}")
            return False
        return True

    def _drive(self, client: mqtt.Client, stop: threading.Event, tick: Callable[[], None],
               step_s: float) -> None:
        deadline = time.monotonic() + self.config.connect_timeout_s
        while not stop.is_set():
            rc = self._step(client, step_s)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                if self.connected:
                    self._on_disconnect(client, None, None, rc, None)
                self._error(f"connection lost: {mqtt.error_string(rc)}")
                return
            if not self.connected and time.monotonic() > deadline:
                self._error("no CONNACK within connect_timeout_s")
                client.disconnect()
                return
            self._guard(tick)

    def _step(self, client: mqtt.Client, step_s: float) -> MQTTErrorCode:
        """One wait for traffic, then read whatever else is already there (up to BURST)."""
        rc = client.loop(timeout=step_s)
        for _ in range(BURST):
            before = self._events
            if rc != mqtt.MQTT_ERR_SUCCESS:
                break
            rc = client.loop(timeout=0)
            if self._events == before:
                break
        return rc

    def _close(self, client: mqtt.Client, tick: Callable[[], None]) -> None:
        if self.connected:
            self._guard(tick)
            client.disconnect()
            for _ in range(20):
                if client.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                    break
        self.connected = False
        self._client = None
