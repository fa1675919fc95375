"""The base class every configuration section derives from: strict, frozen, unknown keys refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A configuration section: unknown keys are errors, values are never coerced from strings."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
