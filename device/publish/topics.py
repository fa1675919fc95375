"""MQTT topic names: `<prefix>/<tenant>/<device>/{result,status,telemetry,cmd/...}`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str
    tenant: str
    device: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.tenant}/{self.device}"

    @property
    def result(self) -> str:
        return f"{self.base}/result"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def telemetry(self) -> str:
        return f"{self.base}/telemetry"

    @property
    def commands(self) -> str:
        """The filter a device subscribes to for fleet commands."""
        return f"{self.base}/cmd/#"

    def command(self, name: str) -> str:
        return f"{self.base}/cmd/{name}"


def bureau_results(prefix: str, group: str = "bureau") -> str:
    """The shared subscription every bureau receiver in `group` joins."""
    return f"$share/{group}/{prefix}/+/+/result"


def split(topic: str, prefix: str) -> tuple[str, str, str] | None:
    """(tenant, device, kind) of a device topic under prefix, or None if it is not one."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head):].split("/")
    if len(parts) < 3 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1], "/".join(parts[2:])
