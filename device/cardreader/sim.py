"""A simulated SAM module on a pseudo-terminal, speaking the real protocol, with faults as data.

The link code cannot tell it from a reader: it opens the stable symlink returned by start()
with pyserial. A `disconnect` fault closes the pty and, after delay_s, opens a new one and
points the symlink at it, as a USB serial adapter re-enumerating behind a udev symlink does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pty
import random
import select
import shutil
import tempfile
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.cardreader.protocol import (
    PREAMBLE,
    Cmd,
    FrameParser,
    Status,
    decode_command,
    encode_card_data,
    encode_response,
)
from device.cardreader.sim_script import FaultRule, SimCard, SimScript
from device.errors import CardReaderError

log = logging.getLogger(__name__)

POLL_S = 0.02
JOIN_TIMEOUT_S = 3.0
MANUAL_OCCURRENCE = 1_000_000  # occurrences of placed cards never equal scripted ones


@dataclass(slots=True)
class _Pty:
    master: int
    slave: int

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass(slots=True)
class _SimCounters:
    commands: int = 0
    responses: int = 0
    disconnects: int = 0
    faults: dict[str, int] = field(default_factory=dict)


class SimulatedReader:
    """start() -> the port path (a symlink to the current pty slave); stop() tears down."""

    def __init__(self, script: SimScript, link_path: Path | None = None) -> None:
        self._script = script
        self._link_path = link_path
        self._temp_dir: Path | None = None
        self._pty: _Pty | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._rng = random.Random(script.seed)
        self._rule_seen = [0] * len(script.faults)
        self._rule_fired = [0] * len(script.faults)
        self._silent_until = 0.0
        self._started_at = 0.0
        self._selected: int | None = None
        self._counters = _SimCounters()
        self._placed: tuple[int, SimCard | None] | None = None
        self._placements = 0

    @property
    def port(self) -> str:
        if self._link_path is None:
            raise CardReaderError("simulator not started")
        return str(self._link_path)

    def start(self) -> str:
        if self._thread is not None:
            raise CardReaderError("simulator already started")
        if self._link_path is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="faceterm-sim-"))
            self._link_path = self._temp_dir / "ttySAM"
        self._open_pty()
        self._stop.clear()
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="cardreader-sim", daemon=True)
        self._thread.start()
        log.info("cardreader sim: SAM answering on %s", self._link_path)
        return self.port

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                log.error("cardreader sim: thread did not stop within %.1f s", JOIN_TIMEOUT_S)
            self._thread = None
        if self._pty is not None:
            self._pty.close()
            self._pty = None
        if self._link_path is not None and self._link_path.is_symlink():
            self._link_path.unlink()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None
            self._link_path = None

    def place(self, card: SimCard | None) -> None:
        """Take over from the script: a person lays `card` on the reader (None: takes it
        away). Used by the demo's scripted visitors."""
        self._placements += 1
        self._placed = (MANUAL_OCCURRENCE + self._placements, card)

    def status(self) -> dict[str, Any]:
        return {
            "port": str(self._link_path) if self._link_path else None,
            "commands": self._counters.commands,
            "responses": self._counters.responses,
            "disconnects": self._counters.disconnects,
            "faults": dict(self._counters.faults),
        }

    def _open_pty(self) -> None:
        master, slave = pty.openpty()
        tty.setraw(slave)
        self._pty = _Pty(master, slave)
        assert self._link_path is not None
        staging = self._link_path.with_name(self._link_path.name + ".new")
        if staging.is_symlink() or staging.exists():
            staging.unlink()
        staging.symlink_to(os.ttyname(slave))
        os.replace(staging, self._link_path)

    def _run(self) -> None:
        parser = FrameParser()
        try:
            while not self._stop.is_set():
                chunk = self._read_master()
                for payload in parser.feed(chunk):
                    self._answer(payload)
        except Exception:
            log.exception("cardreader sim: thread failed")

    def _read_master(self) -> bytes:
        if self._pty is None:
            self._stop.wait(POLL_S)
            return b""
        ready, _, _ = select.select([self._pty.master], [], [], POLL_S)
        if not ready:
            return b""
        try:
            return os.read(self._pty.master, 4096)
        except OSError:
            return b""

    def _answer(self, payload: bytes) -> None:
        self._counters.commands += 1
        command = decode_command(payload)
        if time.monotonic() < self._silent_until:
            return
        frame = self._respond(command.code)
        rule = self._fault_for(command.code)
        if rule is None:
            self._write(frame)
        else:
            self._counters.faults[rule.kind] = self._counters.faults.get(rule.kind, 0) + 1
            self._inject(rule, command.code, frame)

    def _respond(self, code: int) -> bytes:
        placed = self._placed
        if placed is not None:
            occurrence, card = placed
        else:
            occurrence, card = self._script.state_at(time.monotonic() - self._started_at)
        if code in (Cmd.SAM_STATUS, Cmd.RESET):
            return encode_response(Status.SUCCESS)
        if code == Cmd.SAM_ID:
            return encode_response(Status.SUCCESS, bytes(16))
        if code == Cmd.FIND_CARD:
            if card is None:
                return encode_response(Status.FIND_FAILED)
            return encode_response(Status.FIND_OK, bytes(4))
        if code == Cmd.SELECT_CARD:
            self._selected = occurrence if card is not None else None
            ok = card is not None
            return encode_response(Status.SUCCESS if ok else Status.SELECT_FAILED, bytes(8))
        if code in (Cmd.READ_TEXT_PHOTO, Cmd.READ_TEXT_PHOTO_FP):
            return self._read_response(code, occurrence, card)
        return encode_response(Status.RX_COMMAND_ERROR)

    def _read_response(self, code: int, occurrence: int, card: SimCard | None) -> bytes:
        if card is None or self._selected != occurrence:
            return encode_response(Status.READ_FAILED)
        fingerprint = bytes(1024) if code == Cmd.READ_TEXT_PHOTO_FP else None
        data = encode_card_data(card.text_block(), card.photo_block(), fingerprint)
        return encode_response(Status.SUCCESS, data)

    def _fault_for(self, code: int) -> FaultRule | None:
        try:
            name = Cmd(code).name
        except ValueError:
            name = f"0x{code:04X}"
        for index, rule in enumerate(self._script.faults):
            if rule.commands and name not in rule.commands:
                continue
            self._rule_seen[index] += 1
            seen = self._rule_seen[index] - rule.start_after
            exhausted = rule.count and self._rule_fired[index] >= rule.count
            if seen > 0 and (seen - 1) % rule.every == 0 and not exhausted:
                self._rule_fired[index] += 1
                return rule
        return None

    def _inject(self, rule: FaultRule, code: int, frame: bytes) -> None:
        if rule.kind == "checksum":
            self._write(frame[:-1] + bytes([frame[-1] ^ 0x5A]))
        elif rule.kind == "garbage":
            self._write(self._garbage(rule.garbage_bytes) + frame)
        elif rule.kind == "split":
            self._write_split(frame, rule.delay_s)
        elif rule.kind == "silence":
            self._silent_until = time.monotonic() + rule.delay_s
        elif rule.kind == "disconnect":
            self._disconnect(rule.delay_s)
        else:
            self._write(encode_response(rule.status))

    def _garbage(self, size: int) -> bytes:
        noise = bytes(self._rng.randrange(256) for _ in range(size))
        return noise.replace(PREAMBLE[:3], b"\x00\x00\x00")

    def _write_split(self, frame: bytes, delay_s: float) -> None:
        cuts = sorted(self._rng.sample(range(1, len(frame)), k=min(3, len(frame) - 1)))
        for start, end in zip([0, *cuts], [*cuts, len(frame)], strict=True):
            self._write(frame[start:end])
            if end < len(frame) and self._stop.wait(delay_s):
                return

    def _disconnect(self, downtime_s: float) -> None:
        log.info("cardreader sim: disconnecting for %.2f s", downtime_s)
        self._counters.disconnects += 1
        if self._pty is not None:
            self._pty.close()
            self._pty = None
        self._stop.wait(downtime_s)
        if not self._stop.is_set():
            self._open_pty()

    def _write(self, data: bytes) -> None:
        if self._pty is None:
            return
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._pty.master, view)
                view = view[written:]
        except OSError as exc:
            log.debug("cardreader sim: write failed: %s", exc)
            return
        self._counters.responses += 1
