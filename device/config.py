"""The configuration file: one TOML document, validated at start-up, errors naming key and line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from device.camera.settings import CameraSettings
from device.cardreader.settings import CardReaderSettings
from device.errors import ConfigError
from device.fleet.settings import FleetSettings
from device.liveness.settings import LivenessSettings
from device.publish.settings import IdentitySettings, MqttSettings, OutboxSettings
from device.session.settings import SessionSettings
from device.settings_base import Section
from device.ui.settings import UiSettings
from device.vision.settings import VisionSettings

DEFAULT_PATH = Path("/etc/faceterm/faceterm.toml")
SECRET_KEYS = frozenset({"device_key", "client_key", "wlt_decoder_path"})


class DeviceSettings(Section):
    id: str = Field("faceterm-dev", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    tenant: str = Field("default", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    state_dir: str = "/var/lib/faceterm"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    event_queue_size: int = Field(256, ge=8, le=65536)
    # Clock synchronisation, stated in every record (device/clock.py): the file
    # systemd-timesyncd touches on each synchronisation, and whether to ask adjtimex(2) too.
    clock_sync_file: str = "/run/systemd/timesync/synchronized"
    clock_kernel_check: bool = True


class Config(Section):
    device: DeviceSettings = DeviceSettings()
    cardreader: CardReaderSettings = CardReaderSettings()
    camera: CameraSettings = CameraSettings()
    vision: VisionSettings = VisionSettings()
    session: SessionSettings = SessionSettings()
    liveness: LivenessSettings = LivenessSettings()
    identity: IdentitySettings = IdentitySettings()
    outbox: OutboxSettings = OutboxSettings()
    mqtt: MqttSettings = MqttSettings()
    fleet: FleetSettings = FleetSettings()
    ui: UiSettings = UiSettings()

    def state_path(self, name: str) -> Path:
        """A path relative to the state directory (absolute names are kept as they are)."""
        path = Path(name)
        return path if path.is_absolute() else Path(self.device.state_dir) / path


def load(path: Path) -> Config:
    """Read and validate a configuration file; raise ConfigError naming the file, key and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from exc
    return parse(text, str(path))


def parse(text: str, source: str = "<config>") -> Config:
    """Validate TOML text; raise ConfigError naming source, key and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, text, source)) from exc
    problem = config.liveness.challenge_problem()  # the documented security minimum
    if problem is not None:
        line = find_line(text, ("liveness", "actions")) or find_line(text, ("liveness",))
        where = f"{source}:{line}" if line else source
        raise ConfigError(f"invalid configuration\n  {where}: liveness: {problem}")
    return config


def _describe(exc: ValidationError, text: str, source: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        line = find_line(text, tuple(str(p) for p in err["loc"]))
        where = f"{source}:{line}" if line else source
        reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{where}: {key}: {reason}")
    return "invalid configuration\n  " + "\n  ".join(lines)


_TABLE_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_\-\"]+)\s*=")


def find_line(text: str, loc: tuple[str, ...]) -> int | None:
    """The 1-based line where the dotted key loc is set (or its table starts), if any."""
    table: tuple[str, ...] = ()
    table_line: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        table_match = _TABLE_RE.match(raw)
        if table_match:
            table = tuple(p.strip().strip('"') for p in table_match.group(1).split("."))
            if table == loc:
                return number
            if table == loc[: len(table)] and table:
                table_line = number
            continue
        key_match = _KEY_RE.match(raw)
        if key_match and (*table, key_match.group(1).strip('"')) == loc[: len(table) + 1]:
            return number
    return table_line


def redacted(config: Config) -> dict[str, Any]:
    """The effective configuration as plain data, with secret paths replaced by '***'."""
    data = config.model_dump()
    for section in data.values():
        if isinstance(section, dict):
            for key in section:
                if key in SECRET_KEYS and section[key]:
                    section[key] = "***"
    return data
