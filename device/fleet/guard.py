"""config.set must not cut the channel it arrives on. Pure checks over old and new configs.

A change to [fleet] or [mqtt] (broker, certificates, topics, the operators file, the skew) only
takes effect after a restart, and stays on probation until a signed command has been verified
again with it; otherwise the previous file comes back. Changes that could never pass are
refused before anything is written: switching the fleet channel off, an operators file that is
missing or unreadable, or one in which the operator sending the change could not send it again.
"""

from __future__ import annotations

import datetime as dt

from device.config import Config
from device.errors import CommandRejected, ConfigError
from device.fleet.keyring import Keyring

CHANNEL_SECTIONS = frozenset({"fleet", "mqtt"})


def changed_sections(old: Config, new: Config) -> set[str]:
    return {name for name in Config.model_fields if getattr(new, name) != getattr(old, name)}


def touches_channel(old: Config, new: Config) -> bool:
    """Whether the change can affect how signed commands reach and pass this device."""
    return bool(changed_sections(old, new) & CHANNEL_SECTIONS)


def check_channel(new: Config, operator: str, now_s: float) -> None:
    """Refuse a configuration that would lock the bureau out; CommandRejected names the rule."""
    if not new.fleet.enabled:
        raise CommandRejected("locks_out", "fleet.enabled = false cannot be set over the fleet "
                              "channel (set it in the file on the device)")
    path = new.state_path(new.fleet.operators_file)
    if not path.is_file():
        raise CommandRejected("invalid_config", "fleet.operators_file: no such file")
    try:
        keyring = Keyring.load(path)
    except ConfigError as exc:
        raise CommandRejected("invalid_config", f"fleet.operators_file: {exc}") from None
    try:
        sender = keyring.get(operator, dt.datetime.fromtimestamp(now_s, dt.UTC))
    except CommandRejected as exc:
        raise CommandRejected("locks_out", f"fleet.operators_file: {exc.reason} for the "
                              "operator sending this change") from None
    if not sender.allowed("config.set"):
        raise CommandRejected("locks_out", "fleet.operators_file: the operator sending this "
                              "change could not undo it")
