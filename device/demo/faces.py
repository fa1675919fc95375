"""Face photos for the demo, from registry packages only (never committed):

- face_recognition 1.3.0's source archive (MIT) ships obama.jpg, obama2.jpg, obama3.jpg and
  biden.jpg in tests/test_images: two people, several photos of one of them;
- scikit-image ships the NASA astronaut portrait (public domain).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import cv2
import numpy as np

from device.errors import FacetermError
from device.vision.types import Image

PACKAGE = "face_recognition==1.3.0"
PHOTOS = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")
def fetch_photos(folder: Path, cache: Path, timeout_s: float = 300.0) -> dict[str, Path]:
    """The demo photos in folder, downloading the archive into cache the first time."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {name: folder / name for name in PHOTOS}
    if all(path.exists() for path in wanted.values()):
        return wanted
    archive = _download(cache, timeout_s)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = Path(member.name).name
            if name in wanted and "/tests/test_images/" in member.name:
                source = tar.extractfile(member)
                if source is not None:
                    wanted[name].write_bytes(source.read())
    missing = [n for n, p in wanted.items() if not p.exists()]
    if missing:
        raise FacetermError(f"{archive} lacks {missing}")
    astronaut(folder)
    return wanted


def _download(cache: Path, timeout_s: float) -> Path:
    found = sorted(cache.glob("face_recognition-1.3.0.tar.gz"))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
               ":all:", PACKAGE, "-d", str(cache)]
    try:
        subprocess.run(command, check=True, timeout=timeout_s, capture_output=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise FacetermError(f"could not download {PACKAGE} for the demo photos: {exc}") from exc
    return next(cache.glob("face_recognition-1.3.0.tar.gz"))


def astronaut(folder: Path) -> Path:
    path = folder / "astronaut.png"
    if not path.exists():
        from skimage import data

        rgb = np.asarray(data.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def read_rgb(path: Path) -> Image:
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise FacetermError(f"cannot read {path}")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
