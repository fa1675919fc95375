"""Configuration of the ID-card reader (section [cardreader])."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from device.settings_base import Section


class CardReaderSettings(Section):
    type: Literal["serial", "sim"] = "serial"
    port: str = "/dev/idcard"
    baudrate: int = Field(115200, ge=1200, le=921600)
    read_timeout_s: float = Field(1.0, gt=0, le=30)
    connect_timeout_s: float = Field(5.0, gt=0, le=120)
    max_retries: int = Field(3, ge=0, le=20)
    retry_backoff_s: float = Field(0.1, gt=0, le=10)
    max_backoff_s: float = Field(5.0, gt=0, le=300)
    poll_interval_s: float = Field(0.3, gt=0, le=10)
    removal_misses: int = Field(2, ge=1, le=20)
    max_read_failures: int = Field(3, ge=1, le=20)
    read_wait_s: float = Field(10.0, gt=0, le=600)
    sim_script: str = ""
    wlt_decoder_path: str = ""
