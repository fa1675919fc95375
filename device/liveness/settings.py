"""Configuration of the liveness checks (section [liveness])."""

from __future__ import annotations

from pydantic import Field

from device.settings_base import Section


class LivenessSettings(Section):
    enabled: bool = True
    actions_min: int = Field(2, ge=1, le=5)
    actions_max: int = Field(3, ge=1, le=5)
    action_timeout_s: float = Field(5.0, gt=0, le=60)
    screen_flash: bool = True
