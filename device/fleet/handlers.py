"""What each fleet command does on the device, over a small set of services the daemon provides.

Handlers run on the fleet worker thread; anything that touches session state goes through
`services.on_core` (a call executed by the core loop, with a timeout).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from joserfc.jwk import OKPKey

from device.cardreader.idnumber import CardRejected, validate_id_number
from device.config import Config, redacted
from device.errors import (
    CommandRefused,
    CommandRejected,
    ConfigError,
    FacetermError,
    ModelError,
)
from device.fleet import commands as c
from device.fleet.auth import Command, verify_artifact
from device.fleet.configstore import ConfigStore
from device.fleet.guard import check_channel, touches_channel
from device.fleet.keyring import Keyring
from device.fleet.modelslots import Binding, ModelSlots, fetch, install
from device.fleet.sealed import decode_vector, open_sealed
from device.match.thresholds import ThresholdRange, manifest_range
from device.vision.models import Manifest
from device.vision.types import Vector

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the daemon lends the fleet channel."""

    config: Callable[[], Config]
    status: Callable[[], dict[str, Any]]
    store: ConfigStore
    apply_config: Callable[[Config], dict[str, Any]]  # raises FacetermError on a failed check
    keyring: Keyring
    enc_key: OKPKey
    templates_put: Callable[[str, Vector, str], str]  # (id_number, vector, model) -> subject
    templates_revoke: Callable[[str], bool]
    slots: ModelSlots
    models_selftest: Callable[[Path], dict[str, Any]]
    models_activate: Callable[[Path], None]
    selftest: Callable[[], dict[str, Any]]
    restart: Callable[[float], None]
    logs_tail: Callable[[int], list[str]]
    outbox_flush: Callable[[], dict[str, Any]]
    clock: Callable[[], float]


def build(services: Services) -> dict[str, Callable[[Command], dict[str, Any]]]:
    s = services
    return {
        "status.get": lambda cmd: s.status(),
        "config.get": lambda cmd: redacted(s.config()),
        "config.set": lambda cmd: config_set(s, cast(c.ConfigSet, cmd.params), cmd.operator),
        "thresholds.set": lambda cmd: thresholds_set(s, cmd),
        "templates.put": lambda cmd: templates_put(s, cast(c.TemplatesPut, cmd.params)),
        "templates.revoke": lambda cmd: templates_revoke(s, cast(c.TemplatesRevoke, cmd.params)),
        "model.update": lambda cmd: model_update(s, cast(c.ModelUpdate, cmd.params)),
        "service.restart": lambda cmd: restart(s, cast(c.ServiceRestart, cmd.params)),
        "selftest.run": lambda cmd: selftest(s),
        "logs.tail": lambda cmd: {"lines": s.logs_tail(cast(c.LogsTail, cmd.params).lines)},
        "outbox.flush": lambda cmd: s.outbox_flush(),
    }


def config_set(s: Services, params: c.ConfigSet, operator: str = "") -> dict[str, Any]:
    """Validate, write atomically, apply; roll back file and components if the check fails.
    A change to the fleet channel itself must leave the sender able to command the device."""
    try:
        new, text = s.store.propose(params.changes)
    except ConfigError as exc:
        raise CommandRejected("invalid_config", str(exc)) from exc
    old = s.config()
    if touches_channel(old, new):
        check_channel(new, operator, s.clock())
    s.store.commit(text)
    try:
        applied = s.apply_config(new)
    except (FacetermError, OSError) as exc:
        log.warning("config.set failed its health check, rolling back: %s", exc)
        s.store.rollback()
        s.apply_config(old)
        raise CommandRejected("rolled_back", str(exc)) from exc
    if params.restart:
        s.restart(1.0)
    return {"applied": applied}


def thresholds_set(s: Services, cmd: Command) -> dict[str, Any]:
    """Inside the embed model's manifest range for anyone allowed the command; outside it only
    for an admin with `override: true` (device/match/thresholds.py), which the records show."""
    params = cast(c.ThresholdsSet, cmd.params)
    bounds = active_threshold_range(s)
    inside = bounds is not None and bounds.contains(params.match_threshold)
    where = bounds.describe() if bounds else "the model's (no calibrated threshold)"
    if not inside and not params.override:
        raise CommandRefused("threshold_out_of_range",
                              f"{params.match_threshold:.6g} is outside {where}")
    if not inside and "admin" not in operator_roles(s, cmd.operator):
        raise CommandRefused("forbidden", f"{cmd.operator}: only an admin may override {where}")
    if not inside:
        log.warning("thresholds.set: %s overrides %s with %.6g", cmd.operator, where,
                    params.match_threshold)
    changes = {"match_threshold": params.match_threshold, "match_threshold_override": not inside}
    return config_set(s, c.ConfigSet(changes={"session": changes}))


def operator_roles(s: Services, kid: str) -> frozenset[str]:
    return s.keyring.get(kid, dt.datetime.fromtimestamp(s.clock(), dt.UTC)).roles


def active_threshold_range(s: Services) -> ThresholdRange | None:
    """The threshold range of the embed model in the active model slot."""
    try:
        manifest = Manifest.load(s.slots.active_dir())
        entry = manifest.find(task="embed", variant=s.config().vision.embed_variant)
    except ModelError as exc:
        raise CommandRejected("no_model", str(exc)) from exc
    return manifest_range(entry.model_id, entry.raw)


def templates_put(s: Services, params: c.TemplatesPut) -> dict[str, Any]:
    data = open_sealed(params.sealed, s.enc_key)
    id_number, model = data.get("id_number"), data.get("model")
    if not isinstance(id_number, str) or not isinstance(model, str):
        raise CommandRejected("bad_payload", "id_number and model are required")
    vector = decode_vector(str(data.get("embedding", "")))
    subject = s.templates_put(_valid_id(id_number, s.clock()), vector, model)
    return {"subject": subject[:12]}


def templates_revoke(s: Services, params: c.TemplatesRevoke) -> dict[str, Any]:
    data = open_sealed(params.sealed, s.enc_key)
    id_number = data.get("id_number")
    if not isinstance(id_number, str):
        raise CommandRejected("bad_payload", "id_number is required")
    return {"revoked": s.templates_revoke(_valid_id(id_number, s.clock()))}


def _valid_id(id_number: str, now_s: float) -> str:
    """The normalised GB 11643 number; CommandRejected('bad_id_number') names the rule only."""
    try:
        return validate_id_number(id_number, dt.datetime.fromtimestamp(now_s, dt.UTC).date())
    except CardRejected as exc:
        raise CommandRejected("bad_id_number", exc.reason.value) from None


def model_update(s: Services, params: c.ModelUpdate) -> dict[str, Any]:
    signer = verify_artifact(params.signature, s.keyring, params, s.clock())
    config = s.config()
    artifacts = config.fleet.artifacts_dir
    s.slots.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=s.slots.root) as tmp:
        artifact = Path(tmp) / "artifact.tflite"
        fetch(params.url, artifact, params.size, params.sha256,
              config.state_path(artifacts) if artifacts else None)
        binding = Binding(params.name, params.sha256, params.variant, params.threshold)
        result = install(s.slots, binding, artifact, s.models_selftest, s.models_activate)
    return {**result, "signed_by": signer}


def restart(s: Services, params: c.ServiceRestart) -> dict[str, Any]:
    s.restart(params.delay_s)
    return {"restarting_in_s": params.delay_s}


def selftest(s: Services) -> dict[str, Any]:
    report = s.selftest()
    if not report.get("ok"):
        raise CommandRejected("selftest_failed", "; ".join(report.get("failures", [])))
    return report
