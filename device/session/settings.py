"""Configuration of the verification session, quality gates and matching (section [session])."""

from __future__ import annotations

from pydantic import Field

from device.settings_base import Section


class SessionSettings(Section):
    max_attempts: int = Field(3, ge=1, le=10)
    identify_timeout_s: float = Field(60.0, gt=0, le=600)
    capture_timeout_s: float = Field(30.0, gt=0, le=600)
    liveness_timeout_s: float = Field(30.0, gt=0, le=600)
    decided_hold_s: float = Field(5.0, ge=0, le=120)
    best_frames: int = Field(3, ge=1, le=10)
    match_threshold: float = Field(0.40, gt=-1, lt=1)
    templates_db: str = "templates.sqlite3"
