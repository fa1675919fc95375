"""Configuration of identity, outbox and MQTT (sections [identity], [outbox], [mqtt])."""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from device.settings_base import Section


class IdentitySettings(Section):
    device_key: str = "device.key"
    bureau_public_key: str = "bureau.pub.jwk"
    # The result sequence (epoch + reserve-ahead high-water mark), a 0600 file of its own so that
    # losing or repairing the outbox never restarts seq (device/publish/sequence.py).
    sequence_file: str = "device.seq"
    sequence_reserve: int = Field(64, ge=1, le=100_000)


class OutboxSettings(Section):
    path: str = "outbox.sqlite3"
    max_rows: int = Field(100_000, ge=10, le=10_000_000)
    alarm_ratio: float = Field(0.8, gt=0, lt=1)
    max_inflight: int = Field(32, ge=1, le=1000)
    busy_timeout_s: float = Field(5.0, gt=0, le=60)


BROKER = r"^[A-Za-z0-9_.-]+(:[0-9]{1,5})?$"


class MqttSettings(Section):
    """`host` + `port` name one broker; `hosts = ["a:8883", "b"]` several, tried in turn."""

    host: str = "localhost"
    port: int = Field(8883, ge=1, le=65535)
    hosts: list[str] = Field(default_factory=list, max_length=16)
    ca_cert: str = "ca.crt"
    client_cert: str = "device.crt"
    client_key: str = "device.tls.key"
    topic_prefix: str = Field("faceterm/v1", pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    keepalive_s: int = Field(30, ge=5, le=3600)
    telemetry_interval_s: float = Field(60.0, gt=0, le=86400)
    reconnect_min_s: float = Field(1.0, gt=0, le=60)
    reconnect_max_s: float = Field(60.0, gt=0, le=3600)
    connect_timeout_s: float = Field(10.0, gt=0, le=120)
    no_subscriber_retry_s: float = Field(2.0, gt=0, le=600)
    thermal_zone_path: str = "/sys/class/thermal/thermal_zone0/temp"

    @model_validator(mode="after")
    def _backoff_range(self) -> MqttSettings:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        if self.hosts and "host" in self.model_fields_set:
            raise ValueError("give either host (one broker) or hosts (a list), not both")
        for entry in self.hosts:
            if not re.match(BROKER, entry) or not 1 <= _port(entry, self.port) <= 65535:
                raise ValueError(f"hosts entry {entry!r}: expected HOST or HOST:PORT")
        return self

    def brokers(self) -> tuple[tuple[str, int], ...]:
        """(host, port) of every broker in failover order (`port` where an entry has none)."""
        if not self.hosts:
            return ((self.host, self.port),)
        return tuple((entry.partition(":")[0], _port(entry, self.port)) for entry in self.hosts)


def _port(entry: str, default: int) -> int:
    _, _, port = entry.partition(":")
    return int(port) if port else default
