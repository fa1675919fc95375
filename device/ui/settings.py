"""Configuration of the kiosk screen and voice (section [ui])."""

from __future__ import annotations

from pydantic import Field

from device.settings_base import Section


class UiSettings(Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    voice: bool = True
    volume: int = Field(100, ge=0, le=200)
    worker_mode: bool = False
