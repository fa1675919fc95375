"""The simulator's script: cards coming and going, and faults to inject, as plain data.

A script is a JSON or TOML file such as::

    {"repeat": true,
     "steps": [{"card": {"name": "...", "id_number": "...", ...}, "present_s": 5},
               {"absent_s": 2}],
     "faults": [{"kind": "checksum", "every": 3, "count": 2}]}

Fault kinds: `checksum` (corrupt the answer's checksum), `garbage` (noise before the frame),
`split` (the frame in pieces with delay_s between), `silence` (no answer; with delay_s > 0 no
answer to anything for that long), `disconnect` (drop the pty for delay_s, then a new one
behind the same symlink) and `status` (answer with the SW3 code `status` instead).
A rule fires on matching commands number start_after+1, then every `every`-th, `count` times
(0 = without end); `commands` restricts it to some commands by Cmd name.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from device.cardreader.card import encode_text
from device.cardreader.protocol import PHOTO_LEN
from device.errors import CardReaderError

FaultKind = Literal["checksum", "garbage", "split", "silence", "disconnect", "status"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SimCard(_Strict):
    name: str = Field(min_length=1, max_length=15)
    sex_code: str = Field("1", pattern=r"^[0129]$")
    nation_code: str = Field("01", pattern=r"^[0-9]{2}$")
    birth_date: str = Field(pattern=r"^[0-9]{8}$")
    address: str = Field("", max_length=35)
    id_number: str = Field(min_length=1, max_length=18)
    authority: str = Field("", max_length=15)
    valid_from: str = Field(pattern=r"^[0-9]{8}$")
    valid_until: str = Field(pattern=r"^([0-9]{8}|长期)$")

    def text_block(self) -> bytes:
        return encode_text(self.model_dump())

    def photo_block(self) -> bytes:
        """A synthetic, undecodable 1024-byte stand-in for a WLT photo."""
        seed = hashlib.sha256(self.id_number.encode()).digest()
        blocks = [hashlib.sha256(seed + bytes([i])).digest() for i in range(PHOTO_LEN // 32)]
        return b"".join(blocks)


class Step(_Strict):
    card: SimCard | None = None
    present_s: float | None = Field(None, gt=0, le=86400)
    absent_s: float | None = Field(None, gt=0, le=86400)

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        is_card = self.card is not None and self.present_s is not None
        is_gap = self.card is None and self.present_s is None and self.absent_s is not None
        if is_card == is_gap:
            raise ValueError("a step is either {card, present_s} or {absent_s}")
        return self

    @property
    def duration_s(self) -> float:
        return self.present_s if self.present_s is not None else float(self.absent_s or 0)


class FaultRule(_Strict):
    kind: FaultKind
    every: int = Field(1, ge=1, le=1_000_000)
    start_after: int = Field(0, ge=0, le=1_000_000)
    count: int = Field(0, ge=0, le=1_000_000)
    delay_s: float = Field(0.0, ge=0, le=60)
    garbage_bytes: int = Field(8, ge=1, le=4096)
    status: int = Field(0x41, ge=0, le=0xFF)
    commands: list[str] = Field(default_factory=list)


class SimScript(_Strict):
    steps: list[Step] = Field(min_length=1)
    repeat: bool = True
    faults: list[FaultRule] = Field(default_factory=list)
    seed: int = 0

    def state_at(self, elapsed_s: float) -> tuple[int, SimCard | None]:
        """(occurrence index, card or None) at elapsed_s; the last step holds if not repeating."""
        total = sum(step.duration_s for step in self.steps)
        cycle, offset = divmod(elapsed_s, total) if self.repeat else (0.0, elapsed_s)
        for index, step in enumerate(self.steps):
            if offset < step.duration_s:
                return int(cycle) * len(self.steps) + index, step.card
            offset -= step.duration_s
        return len(self.steps) - 1, self.steps[-1].card


def demo_script_path() -> Path:
    """The demo script shipped beside this module (fictional people, valid check digits)."""
    return Path(__file__).with_name("demo_cards.json")


def load_script(path: Path) -> SimScript:
    """Read a JSON or TOML script; CardReaderError naming the file on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return SimScript.model_validate(data)
    except (OSError, ValueError, ValidationError) as exc:
        raise CardReaderError(f"{path}: invalid simulator script: {exc}") from exc
