"""Configuration of the kiosk screen and voice (section [ui])."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from device.settings_base import Section

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class UiSettings(Section):
    enabled: bool = True
    # The kiosk page and the worker API listen on the loopback interface only.
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    voice: bool = True
    # espeak-ng amplitude: 0 is silent, 100 its default, 200 its loudest.
    volume: int = Field(100, ge=0, le=200)
    worker_mode: bool = False
    show_english: bool = True
    heartbeat_s: float = Field(5.0, ge=0.2, le=60.0)
    client_queue_size: int = Field(16, ge=1, le=256)
    max_clients: int = Field(8, ge=1, le=64)
    preview_fps: float = Field(5.0, ge=0.5, le=30.0)
    preview_max_width_px: int = Field(480, ge=64, le=1920)
    preview_jpeg_quality: int = Field(75, ge=10, le=95)
    voice_name: str = Field("cmn", pattern=r"^[A-Za-z0-9_+-]{1,32}$")
    speech_rate_wpm: int = Field(140, ge=80, le=300)
    voice_repeat_s: float = Field(4.0, ge=0.0, le=60.0)
    voice_queue_size: int = Field(2, ge=1, le=16)
    speech_timeout_s: float = Field(15.0, ge=1.0, le=120.0)
    player: Literal["auto", "aplay", "paplay", "none"] = "auto"
    # ALSA device for aplay (`aplay -L` lists them; "" is the default, "null" discards the sound)
    audio_device: str = Field("", pattern=r"^[A-Za-z0-9_:,=.-]{0,64}$")

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value not in LOOPBACK_HOSTS:
            raise ValueError(f"must be a loopback address ({', '.join(sorted(LOOPBACK_HOSTS))})")
        return value
