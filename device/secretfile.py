"""Writing secret files: mode 0600 from the first byte (never chmod after the fact), data
fsynced. The one writer for device keys, template secrets and operator keys."""

from __future__ import annotations

import os
from pathlib import Path


def write_secret(path: Path, data: bytes, exclusive: bool = False) -> None:
    """Write data to path as a 0600 file. exclusive: create it or fail with FileExistsError
    (two processes creating the same secret cannot both win); otherwise an old file is
    replaced atomically (written beside it, then renamed over it)."""
    target = path if exclusive else path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(target, flags, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if not exclusive:
        os.replace(target, path)
