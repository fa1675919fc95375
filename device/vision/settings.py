"""Configuration of the on-device models (section [vision])."""

from __future__ import annotations

from pydantic import Field

from device.settings_base import Section


class VisionSettings(Section):
    models_dir: str = "models"
    embed_variant: str = "sface_fp16"
    num_threads: int = Field(2, ge=1, le=8)
    min_detection_score: float = Field(0.6, gt=0, lt=1)
