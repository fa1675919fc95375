"""Capture sessions at rest: every frame JPEG-encoded, then sealed with AES-256-GCM under a key
kept in a 0600 file outside the capture folder. Nothing here is ever published.

Layout: <folder>/<session_id>/meta.json (label, instrument, subject code, consent, fps, frame
count: no image, no name, no ID number) and frames.bin, a sequence of
[4-byte big-endian length][12-byte nonce][ciphertext+tag]; the associated data binds each frame
to its session and index, so frames cannot be moved or reordered undetected.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from device.errors import FacetermError
from device.secretfile import write_secret

Image = npt.NDArray[np.uint8]
BONA_FIDE = "bona_fide"
INSTRUMENTS = ("print", "cutout", "phone_replay", "tablet_replay", "relative_photo")
LABELS = (BONA_FIDE, *INSTRUMENTS)
MAX_FRAME_BYTES = 8 * 1024 * 1024
NONCE = 12


class CaptureError(FacetermError):
    """A capture folder or key that cannot be used."""


@dataclass(frozen=True, slots=True)
class SessionMeta:
    session_id: str
    label: str
    subject: str
    consent: bool
    fps: float
    frames: int = 0


def load_key(path: Path, create: bool) -> bytes:
    """The 32-byte AES key from a 0600 file (created with 0600 when asked)."""
    if not path.exists():
        if not create:
            raise CaptureError(f"{path}: no capture key")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_secret(path, AESGCM.generate_key(bit_length=256), exclusive=True)
    if path.stat().st_mode & 0o077:
        raise CaptureError(f"{path}: capture key must be mode 0600")
    key = path.read_bytes()
    if len(key) != 32:
        raise CaptureError(f"{path}: capture key must be 32 bytes")
    return key


def _aad(session_id: str, index: int) -> bytes:
    return f"faceterm.capture/1:{session_id}:{index}".encode()


class SessionWriter:
    """Appends sealed frames to one new session; close() writes its meta.json."""

    def __init__(self, folder: Path, key: bytes, meta: SessionMeta) -> None:
        if meta.label not in LABELS:
            raise CaptureError(f"label must be one of {LABELS}, not {meta.label!r}")
        if not meta.consent:
            raise CaptureError("no recorded consent: a pilot session needs the person's consent")
        self.path = folder / meta.session_id
        self.path.mkdir(parents=True, exist_ok=False)
        self._aes = AESGCM(key)
        self._meta = meta
        self._frames = 0
        self._out = (self.path / "frames.bin").open("wb")

    def add(self, rgb: Image) -> None:
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            raise CaptureError("frame could not be encoded")
        nonce = secrets.token_bytes(NONCE)
        sealed = self._aes.encrypt(nonce, jpeg.tobytes(), _aad(self._meta.session_id, self._frames))
        self._out.write(struct.pack(">I", len(sealed)) + nonce + sealed)
        self._frames += 1

    def close(self) -> SessionMeta:
        self._out.close()
        meta = SessionMeta(**{**asdict(self._meta), "frames": self._frames})
        (self.path / "meta.json").write_text(json.dumps(asdict(meta), indent=2) + "\n")
        return meta


def new_session_id() -> str:
    return secrets.token_hex(8)


def sessions(folder: Path) -> list[SessionMeta]:
    """Every finished session under folder (one without meta.json is incomplete: skipped)."""
    found = []
    for meta_file in sorted(folder.glob("*/meta.json")):
        found.append(SessionMeta(**json.loads(meta_file.read_text())))
    return found


def read_frames(folder: Path, key: bytes, meta: SessionMeta) -> Iterator[Image]:
    """Decrypt and decode a session's frames in order (a tampered frame raises)."""
    aes = AESGCM(key)
    with (folder / meta.session_id / "frames.bin").open("rb") as handle:
        for index in range(meta.frames):
            header = handle.read(4)
            if len(header) != 4:
                raise CaptureError(f"{meta.session_id}: truncated at frame {index}")
            (length,) = struct.unpack(">I", header)
            if length > MAX_FRAME_BYTES:
                raise CaptureError(f"{meta.session_id}: frame {index} too large")
            nonce, sealed = handle.read(NONCE), handle.read(length)
            try:
                jpeg = aes.decrypt(nonce, sealed, _aad(meta.session_id, index))
            except InvalidTag as exc:
                raise CaptureError(f"{meta.session_id}: frame {index} fails its tag") from exc
            bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            yield np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def purge(folder: Path) -> int:
    """Delete every session under folder (frames overwritten with zeros first); the count."""
    count = 0
    for session in sorted(p for p in folder.iterdir() if (p / "frames.bin").exists()):
        frames = session / "frames.bin"
        size = frames.stat().st_size
        with frames.open("r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        shutil.rmtree(session)
        count += 1
    return count
