"""The Publisher: sign -> outbox -> MQTT, with status, telemetry and the fleet command hook.

    publisher = Publisher(config, on_command=handler)   # no I/O here
    publisher.start()                                   # keys, outbox, MQTT thread
    result_id = publisher.submit(record, {"id_number": ..., "name": ...})  # durable on return
    publisher.status(); publisher.stop()

One thread owns the MQTT link and the send cursor: it publishes outbox rows in seq order while
connected (at most max_inflight unacknowledged), deletes rows on PUBACK, publishes the retained
status and the telemetry, and forwards `<base>/cmd/#` messages to on_command.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from typing import Any

from paho.mqtt.properties import Properties

from device.backoff import Backoff
from device.config import Config
from device.errors import PublishError
from device.publish import identity
from device.publish.envelope import Signer
from device.publish.mqtt import (
    LinkConfig,
    LinkHooks,
    MessageHook,
    MqttLink,
    permanent_reject,
)
from device.publish.outbox import Outbox
from device.publish.sequence import SequenceFile
from device.publish.telemetry import Telemetry
from device.publish.topics import Topics

log = logging.getLogger(__name__)

RETRY_MAX_S = 60.0  # cap of the doubling pause after a transient refusal
NO_MATCHING_SUBSCRIBERS = 16  # MQTT 5 PUBACK reason: accepted, but nobody will get it
AUX_QUEUE_SIZE = 256


class Publisher:
    def __init__(self, config: Config, on_command: MessageHook | None = None) -> None:
        self.config = config
        self.on_command = on_command
        self.topics = Topics(config.mqtt.topic_prefix, config.device.tenant, config.device.id)
        self.sequence = SequenceFile(config.state_path(config.identity.sequence_file),
                                     config.identity.sequence_reserve)
        self.outbox = Outbox(
            config.state_path(config.outbox.path), config.outbox.max_rows,
            config.outbox.alarm_ratio, config.outbox.busy_timeout_s, self.sequence.next,
        )
        self.link = MqttLink(self._link_config(), LinkHooks(
            connected=self._connected, disconnected=self._disconnected,
            acked=self._on_ack, message=self._message,
        ))
        self.telemetry = Telemetry(config.mqtt.thermal_zone_path)
        self._signer: Signer | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inflight: dict[int, int] = {}  # mid -> seq (link thread only)
        self._to_delete: list[int] = []  # seqs acknowledged, to delete (link thread only)
        self._to_quarantine: list[tuple[int, int, str]] = []  # (seq, code, reason), refused
        self._retry = Backoff(config.mqtt.no_subscriber_retry_s, RETRY_MAX_S)
        self._cursor = 0  # highest seq handed to paho (link thread only)
        self._paused_until = 0.0
        self._window = 1  # 1 while probing that a receiver listens, then max_inflight
        self._aux: queue.Queue[tuple[str, bytes, int, bool, Properties | None]] = queue.Queue(
            AUX_QUEUE_SIZE)
        self._next_telemetry = 0.0
        self.sent = 0
        self.acked = 0
        self.rejected = 0
        self.unheard = 0

    def _link_config(self) -> LinkConfig:
        mq, path = self.config.mqtt, self.config.state_path
        (host, port), *fallbacks = mq.brokers()
        return LinkConfig(
            host=host, port=port, fallbacks=tuple(fallbacks), ca_cert=str(path(mq.ca_cert)),
            client_cert=str(path(mq.client_cert)), client_key=str(path(mq.client_key)),
            client_id=self.config.device.id, keepalive_s=mq.keepalive_s,
            connect_timeout_s=mq.connect_timeout_s, reconnect_min_s=mq.reconnect_min_s,
            reconnect_max_s=mq.reconnect_max_s, will_topic=self.topics.status,
            max_inflight=self.config.outbox.max_inflight,
        )

    # ----------------------------------------------------------------------- lifecycle
    def open(self) -> None:
        """Load keys and open the outbox (submit() works from here on, even offline)."""
        if self._signer is not None:
            return
        ident, path = self.config.identity, self.config.state_path
        identity.check_certificate(path(self.config.mqtt.client_cert), self.config.device.id)
        key = identity.load_signing_key(path(ident.device_key))
        bureau = identity.load_okp(path(ident.bureau_public_key), "bureau public key")
        if bureau.is_private:
            raise PublishError("identity.bureau_public_key must hold only the public key")
        self.sequence.open()
        self._signer = Signer(self.config.device.id, key, bureau, epoch=self.sequence.epoch)
        self.outbox.open()

    def start(self) -> None:
        self.open()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.error("publisher: MQTT thread did not stop within %.1f s", timeout_s)
            self._thread = None
        self.outbox.close()
        self._signer = None

    def _run(self) -> None:
        try:
            self.link.run(self._stop, self._tick)
        except Exception:  # thread boundary
            log.exception("publisher: MQTT thread failed")

    # ----------------------------------------------------------------------- producer side
    def submit(self, record: Mapping[str, Any], personal: Mapping[str, str] | None) -> str:
        """Seal, sign and durably store a result; return its id (jti). Raises PublishError."""
        signer = self._signer
        if signer is None:
            raise PublishError("publisher is not started")
        envelope = self.outbox.append(
            self.topics.result, lambda seq: signer.make(record, personal, seq)
        )
        models = record.get("models")
        if isinstance(models, dict):
            self.telemetry.models = {str(k): str(v) for k, v in models.items()}
        return envelope.jti

    def send(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False,
             properties: Properties | None = None) -> None:
        """Queue a non-durable message (e.g. a command reply) for the link thread."""
        try:
            self._aux.put_nowait((topic, payload, qos, retain, properties))
        except queue.Full as exc:
            raise PublishError("outgoing message queue full") from exc

    def drained(self) -> bool:
        return self.outbox.depth == 0

    def wait_drained(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.outbox.depth and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.outbox.depth == 0

    # ----------------------------------------------------------------------- link thread
    def _connected(self) -> None:
        self._window = 1
        self.link.publish(self.topics.status, b"online", qos=1, retain=True)
        self.link.subscribe(self.topics.commands, qos=1)
        self._next_telemetry = 0.0

    def _disconnected(self, reason: str) -> None:
        self.telemetry.last_error = f"disconnected: {reason}"

    def _on_ack(self, mid: int, code: int, reason: str) -> None:
        """PUBACK: delete the row on success; quarantine it when the broker refused it for good
        (it must not block the results behind it); otherwise keep it, rewind and retry later.

        "No matching subscribers" (16) means no bureau receiver holds a subscription (e.g. the
        broker restarted and lost its shared subscriptions): the row is kept and re-sent, after
        a pause that doubles up to RETRY_MAX_S while the refusals go on. Retrying re-opens the
        window one message at a time, so arrival stays in seq order.
        """
        seq = self._inflight.pop(mid, None)
        if seq is None:
            return
        if code == 0:
            self._to_delete.append(seq)
            self.acked += 1
            self._window = self.config.outbox.max_inflight
            self._retry.reset()
            return
        if permanent_reject(code):
            self.rejected += 1
            self._to_quarantine.append((seq, code, reason))
            self.telemetry.last_error = f"result seq {seq} quarantined: {reason} ({code})"
            return
        if code == NO_MATCHING_SUBSCRIBERS:
            self.unheard += 1
        else:
            self.rejected += 1
        self.telemetry.last_error = f"result seq {seq} not delivered: {reason}"
        self._cursor = min(self._cursor, seq - 1)
        self._window = 1
        self._paused_until = time.monotonic() + self._retry.next()

    def _message(self, topic: str, payload: bytes, props: Properties | None) -> None:
        if self.on_command is not None and topic.startswith(self.topics.base + "/cmd/"):
            self.on_command(topic, payload, props)

    def _tick(self) -> None:
        if self._to_delete:
            done, self._to_delete = self._to_delete, []
            self.outbox.delete(done)
        while self._to_quarantine:
            self.outbox.quarantine(*self._to_quarantine.pop(0))
        if self._stop.is_set():
            self._say_offline()
            return
        if not self.link.connected:
            return
        self._pump()
        self._drain_aux()
        now = time.monotonic()
        if now >= self._next_telemetry:
            self._next_telemetry = now + self.config.mqtt.telemetry_interval_s
            self.link.publish(self.topics.telemetry, json.dumps(self.telemetry_payload()))

    def _pump(self) -> None:
        room = self._window - len(self._inflight)
        if room <= 0 or time.monotonic() < self._paused_until:
            return
        for row in self.outbox.pending(self._cursor, room):
            mid = self.link.publish(row.topic, row.payload.encode(), qos=1)
            self._inflight[mid] = row.seq
            self._cursor = row.seq
            self.sent += 1

    def _drain_aux(self) -> None:
        for _ in range(AUX_QUEUE_SIZE):
            try:
                topic, payload, qos, retain, props = self._aux.get_nowait()
            except queue.Empty:
                return
            self.link.publish(topic, payload, qos=qos, retain=retain, properties=props)

    def _say_offline(self) -> None:
        if self.link.connected:
            self.link.publish(self.topics.status, b"offline", qos=1, retain=True)

    # ----------------------------------------------------------------------- status
    def telemetry_payload(self) -> dict[str, Any]:
        payload = self.telemetry.payload(self.outbox.depth, self.link.last_error,
                                         self.outbox.max_rows)
        payload["quarantined"] = self.outbox.quarantined
        payload["alarms"] = self.alarms()
        return payload

    def alarms(self) -> list[str]:
        """Conditions an operator must act on (stable codes)."""
        alarms = []
        if self.outbox.quarantined:
            alarms.append("results_quarantined")
        if self.outbox.alarm:
            alarms.append("outbox_high")
        if self.outbox.error is not None:
            alarms.append("outbox_unwritable")
        return alarms

    def problem(self) -> str | None:
        """Why a result could not be stored now (None: it could); sessions wait for None."""
        return self.outbox.problem()

    def status(self) -> dict[str, Any]:
        return {
            "running": self._thread is not None and self._thread.is_alive(),
            "connected": self.link.connected, "connects": self.link.connects,
            "connect_failures": self.link.failures, "last_error": self.link.last_error,
            "outbox": self.outbox.status(), "inflight": len(self._inflight),
            "sent": self.sent, "acked": self.acked, "rejected": self.rejected,
            "no_subscribers": self.unheard, "sequence": self.sequence.status(),
            "alarms": self.alarms(),
        }
