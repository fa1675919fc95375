"""Device secrets of the templates store: the AES-256-GCM key and the HMAC salt of ID numbers.

Both come from the device credential store: `$CREDENTIALS_DIRECTORY/<name>` when systemd passed
credentials (LoadCredential=, read-only), otherwise a 0600 file in the state directory, created
with fresh random bytes the first time (provisioning) and never rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from device.errors import ConfigError
from device.secretfile import write_secret

KEY_BYTES = 32
SALT_BYTES = 32


@dataclass(frozen=True, slots=True, repr=False)
class Secrets:
    key: bytes
    salt: bytes

    def __repr__(self) -> str:
        return "Secrets(***)"


def _credential(name: str, environ: Mapping[str, str]) -> Path | None:
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if directory and (Path(directory) / name).is_file():
        return Path(directory) / name
    return None


def _read_private(path: Path, size: int) -> bytes:
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(f"{path}: secret file must not be readable by others (chmod 600)")
    data = path.read_bytes()
    if len(data) != size:
        raise ConfigError(f"{path}: secret must be {size} bytes, found {len(data)}")
    return data


def _create_private(path: Path, size: int) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = secrets.token_bytes(size)
    write_secret(path, data, exclusive=True)
    return data


def load_secret(
    name: str, state_dir: Path, size: int, environ: Mapping[str, str], create: bool = True
) -> bytes:
    """The secret from the credential store, provisioning it in state_dir on first use (only
    when `create`: a new key beside existing templates would orphan every one of them)."""
    credential = _credential(Path(name).name, environ)
    if credential is not None:
        data = credential.read_bytes()
        if len(data) != size:
            raise ConfigError(f"{credential}: secret must be {size} bytes, found {len(data)}")
        return data
    path = Path(name) if Path(name).is_absolute() else state_dir / name
    if path.exists():
        return _read_private(path, size)
    if not create:
        raise ConfigError(
            f"{path}: missing, but templates already exist: run with the service's credentials "
            "($CREDENTIALS_DIRECTORY) instead of creating a new secret that cannot read them")
    try:
        return _create_private(path, size)
    except FileExistsError:  # another process provisioned it meanwhile
        return _read_private(path, size)


def load_secrets(
    state_dir: Path,
    key_name: str = "templates.key",
    salt_name: str = "templates.salt",
    environ: Mapping[str, str] | None = None,
    create: bool = True,
) -> Secrets:
    env = os.environ if environ is None else environ
    return Secrets(
        key=load_secret(key_name, state_dir, KEY_BYTES, env, create),
        salt=load_secret(salt_name, state_dir, SALT_BYTES, env, create),
    )


def subject_hash(salt: bytes, id_number: str) -> str:
    """HMAC-SHA256 of the upper-cased ID number under the device salt, as 64 hex digits."""
    normalised = id_number.strip().upper().encode("ascii")
    return hmac.new(salt, normalised, hashlib.sha256).hexdigest()
