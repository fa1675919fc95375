"""Configuration of the fleet command channel (section [fleet])."""

from __future__ import annotations

from pydantic import Field

from device.settings_base import Section


class FleetSettings(Section):
    enabled: bool = True
    operators_file: str = "operators.json"
    groups: list[str] = Field(default_factory=list)
    clock_skew_s: float = Field(120.0, ge=0, le=3600)
    max_payload_bytes: int = Field(65536, ge=1024, le=16 * 1024 * 1024)
    config_probation_s: float = Field(60.0, gt=0, le=3600)
    core_call_timeout_s: float = Field(30.0, gt=0, le=600)
    job_queue_size: int = Field(16, ge=1, le=1024)
    # model.update may read file:// URLs only below this directory ("" refuses every file URL)
    artifacts_dir: str = ""
