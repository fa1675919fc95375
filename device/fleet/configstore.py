"""Configuration changes from the bureau: merged, validated, written atomically, revertible."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from device.config import Config, parse
from device.errors import ConfigError

NEEDS_COMMAND = "config.set of the fleet channel awaiting a verified command"


def merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """current with changes applied key by key, nested tables merged (validated later)."""
    merged = dict(current)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def to_toml(data: Mapping[str, Mapping[str, Any]]) -> str:
    """Render a configuration as TOML: tables (nested ones as [a.b]) of strings, numbers,
    booleans and lists. Comments of the previous file are not kept."""
    lines: list[str] = []
    for name, section in data.items():
        _table(lines, name, section)
    return "\n".join(lines)


def _table(lines: list[str], name: str, table: Mapping[str, Any]) -> None:
    lines.append(f"[{name}]")
    lines.extend(f"{k} = {_value(v)}" for k, v in table.items() if not isinstance(v, Mapping))
    lines.append("")
    for key, value in table.items():
        if isinstance(value, Mapping):
            _table(lines, f"{name}.{key}", value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write a {type(value).__name__} value to TOML")


def write_atomically(path: Path, text: str) -> None:
    """Write, fsync, rename over, fsync the directory: a crash leaves the old or the new file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class ConfigStore:
    """The device's configuration file, with the previous version kept beside it for rollback."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.previous = path.with_name(path.name + ".previous")

    def current_data(self) -> dict[str, Any]:
        return tomllib.loads(self.path.read_text(encoding="utf-8"))

    def propose(self, changes: Mapping[str, Mapping[str, Any]]) -> tuple[Config, str]:
        """Validate the merged configuration; ConfigError names the key when it is invalid."""
        text = to_toml(merge(self.current_data(), changes))
        return parse(text, "config.set"), text

    def commit(self, text: str) -> None:
        """Keep the running file as .previous, then switch to the new text."""
        write_atomically(self.previous, self.path.read_text(encoding="utf-8"))
        write_atomically(self.path, text)

    def rollback(self) -> None:
        """Put the previous file back (after a failed health check or a failed start)."""
        if not self.previous.exists():
            raise ConfigError(f"{self.previous}: no previous configuration to roll back to")
        write_atomically(self.path, self.previous.read_text(encoding="utf-8"))


class Probation:
    """A configuration written by config.set stays on probation (a marker file beside it) until
    the device has proved itself with it; otherwise the previous file is restored."""

    def __init__(self, store: ConfigStore) -> None:
        self.marker = store.path.with_name(store.path.name + ".pending")
        self.store = store

    @property
    def pending(self) -> bool:
        return self.marker.exists()

    @property
    def needs_command(self) -> bool:
        """Whether the change touched the fleet channel: it passes only once a signed command
        has been verified with it, not merely on reaching the broker."""
        try:
            return self.marker.read_text(encoding="utf-8").startswith(NEEDS_COMMAND)
        except OSError:
            return False

    def begin(self, needs_command: bool = False) -> None:
        text = NEEDS_COMMAND if needs_command else "config.set awaiting its health check"
        write_atomically(self.marker, text + "\n")

    def passed(self) -> None:
        self.marker.unlink(missing_ok=True)

    def failed(self) -> None:
        self.store.rollback()
        self.marker.unlink(missing_ok=True)
