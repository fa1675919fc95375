"""The console's MQTT side: record availability and telemetry into the store, send commands.

One MQTT v5 link (device.publish.mqtt, the fleet identity) subscribes to every device's retained
`status` (online/offline, with the device's last will), its `telemetry`, and the replies to this
console's commands; each is written to the store, so the web pages read only the database.
Commands are signed by the caller (device.fleet.sign) and queued here; the link thread publishes
them with a response topic, and the devices' signed replies update the job rows.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
from dataclasses import replace

from joserfc.jwk import OKPKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device.bureau.console.queries import Queries
from device.errors import FacetermError
from device.fleet.client import verify_reply
from device.publish.mqtt import LinkConfig, LinkHooks, MqttLink
from device.publish.topics import split

log = logging.getLogger(__name__)

OUTGOING_MAX = 1000
MAX_TELEMETRY_BYTES = 64 * 1024


class FleetRecorder:
    def __init__(self, link_config: LinkConfig, registry: dict[str, OKPKey], queries: Queries,
                 prefix: str = "faceterm/v1") -> None:
        self.prefix, self.registry, self.queries = prefix, registry, queries
        self.session = secrets.token_hex(6)
        self.link = MqttLink(replace(link_config, clean_start=True),
                             LinkHooks(connected=self._connected, message=self._message))
        self.bad_replies = 0
        self._out: queue.Queue[tuple[str, str, bytes]] = queue.Queue(OUTGOING_MAX)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="console-fleet", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        try:
            self.link.run(self._stop, self._tick)
        except Exception:  # thread boundary
            log.exception("console: MQTT thread failed")

    def send(self, tenant: str, device: str, command: str, token: str) -> None:
        """Queue a signed command for one device; FacetermError if the queue is full."""
        try:
            self._out.put_nowait((f"{self.prefix}/{tenant}/{device}", command, token.encode()))
        except queue.Full as exc:
            raise FacetermError("too many commands waiting to be sent") from exc

    def _connected(self) -> None:
        base = f"{self.prefix}/+/+"
        for suffix in ("status", "telemetry", f"reply/{self.session}"):
            self.link.subscribe(f"{base}/{suffix}", qos=1)

    def _tick(self) -> None:
        while self.link.connected:
            try:
                base, command, token = self._out.get_nowait()
            except queue.Empty:
                return
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.ResponseTopic = f"{base}/reply/{self.session}"
            props.CorrelationData = self.session.encode()
            self.link.publish(f"{base}/cmd/{command}", token, qos=1, properties=props)

    def _message(self, topic: str, payload: bytes, props: Properties | None) -> None:
        parts = split(topic, self.prefix)
        if parts is None:
            return
        tenant, device, kind = parts
        now = time.time_ns()
        try:
            if kind == "status":
                self.queries.record_status(tenant, device, payload.decode("utf-8", "replace")[:16],
                                           now)
            elif kind == "telemetry" and len(payload) <= MAX_TELEMETRY_BYTES:
                data = json.loads(payload)
                if isinstance(data, dict):
                    self.queries.record_telemetry(tenant, device, data, now)
            elif kind.startswith("reply/"):
                self._reply(device, payload, now)
        except ValueError:
            log.warning("console: unreadable %s from %s", kind, device)

    def _reply(self, device: str, payload: bytes, now_ns: int) -> None:
        try:
            signer, reply = verify_reply(payload, self.registry)
        except FacetermError:
            self.bad_replies += 1
            return
        if signer == device and reply.get("jti"):
            self.queries.update_job(str(reply["jti"]), device, str(reply.get("status")),
                                    reply.get("reason"), now_ns)
