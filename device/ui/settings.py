"""Configuration of the kiosk screen and voice (section [ui])."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from device.settings_base import Section
from device.ui.languages import LanguageCode

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
    # The languages the voice offers (a large button on the first screen chooses); a session
    # starts in the region's dialect when offered (device/ui/languages.py), else the first.
    voice_languages: list[LanguageCode] = Field(["cmn", "yue"], min_length=1, max_length=4)
    # The kiosk's administrative division code (GB/T 2260, e.g. "440300" Shenzhen), or "".
    region: str = Field("", pattern=r"^([0-9]{2,6})?$")
    speech_rate_wpm: int = Field(140, ge=80, le=300)
    # Slow pace ([session] pace = "slow", or a view's `slow`): slower, louder, gaps between words.
    slow_speech_rate_wpm: int = Field(105, ge=60, le=300)
    slow_volume: int = Field(170, ge=0, le=200)
    slow_word_gap_10ms: int = Field(6, ge=0, le=50)
    # Card sessions ask for consent on the screen before any frame is analysed; false only
    # where the bureau takes consent before the terminal is used (docs/privacy.md).
    consent_screen: bool = True
    consent_timeout_s: float = Field(120.0, ge=10.0, le=600.0)
    voice_repeat_s: float = Field(4.0, ge=0.0, le=60.0)
    voice_queue_size: int = Field(2, ge=1, le=16)
    speech_timeout_s: float = Field(15.0, ge=1.0, le=120.0)
    player: Literal["auto", "aplay", "paplay", "none"] = "auto"
    # ALSA device for aplay (`aplay -L` lists them; "" is the default, "null" discards the sound)
    audio_device: str = Field("", pattern=r"^[A-Za-z0-9_:,=.-]{0,64}$")

    @field_validator("voice_languages")
    @classmethod
    def _distinct(cls, value: list[LanguageCode]) -> list[LanguageCode]:
        if len(set(value)) != len(value):
            raise ValueError("each language at most once")
        return value

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value not in LOOPBACK_HOSTS:
            raise ValueError(f"must be a loopback address ({', '.join(sorted(LOOPBACK_HOSTS))})")
        return value
