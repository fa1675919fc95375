"""The one secret-file writer: 0600, replace atomically, or create exclusively."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from device.secretfile import write_secret


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_replaces_atomically_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(b"old")
    path.chmod(0o644)
    write_secret(path, b"new secret")
    assert path.read_bytes() == b"new secret" and mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key.pem"]  # no temporary left behind


def test_exclusive_creation_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "templates.key"
    write_secret(path, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        write_secret(path, b"second", exclusive=True)
    assert path.read_bytes() == b"first" and mode(path) == 0o600
