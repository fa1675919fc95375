"""The fleet commands the device accepts and the schema of each one's parameters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from device.errors import CommandRejected


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class NoParams(Params):
    pass


class ConfigSet(Params):
    changes: dict[str, dict[str, Any]] = Field(min_length=1)
    restart: bool = False


class ThresholdsSet(Params):
    match_threshold: float = Field(gt=-1.0, lt=1.0)
    # Outside the embed model's manifest range only with this, and only by an admin.
    override: bool = False


class TemplatesPut(Params):
    sealed: str = Field(
        min_length=20, description="JWE sealed to the device: id_number, embedding, model")


class TemplatesRevoke(Params):
    sealed: str = Field(min_length=20, description="JWE sealed to the device: id_number")


class ModelUpdate(Params):
    name: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0, le=256 * 1024 * 1024)
    variant: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    threshold: float | None = Field(None, gt=-1.0, lt=1.0)
    url: str = Field(pattern=r"^(https?|file)://")
    signature: str = Field(
        min_length=20, description="bureau JWS over name, sha256, size, variant and threshold")


class ServiceRestart(Params):
    delay_s: float = Field(1.0, ge=0.0, le=300.0)


class LogsTail(Params):
    lines: int = Field(100, ge=1, le=1000)


SCHEMAS: dict[str, type[Params]] = {
    "status.get": NoParams,
    "config.get": NoParams,
    "config.set": ConfigSet,
    "thresholds.set": ThresholdsSet,
    "templates.put": TemplatesPut,
    "templates.revoke": TemplatesRevoke,
    "model.update": ModelUpdate,
    "service.restart": ServiceRestart,
    "selftest.run": NoParams,
    "logs.tail": LogsTail,
    "outbox.flush": NoParams,
}


def parse_params(command: str, params: Any) -> Params:
    """Validate a command's parameters; CommandRejected names the command and the field."""
    schema = SCHEMAS.get(command)
    if schema is None:
        raise CommandRejected("unknown_command", command)
    try:
        return schema.model_validate(params if params is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "params"
        raise CommandRejected("invalid_params", f"{command}: {where}: {first['msg']}") from exc
