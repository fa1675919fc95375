"""Model updates into an inactive slot, switched atomically, rolled back on a failed self-test.

Layout under the state directory: models/slot-a and models/slot-b each hold a complete model set
(manifest.json and files, hard-linked where unchanged); models/active is a symlink to one of
them. Without it the shipped models directory is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device.errors import CommandRejected, ModelError
from device.vision.models import MANIFEST_NAME, Manifest, file_sha256

DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK = 1 << 16


class ModelSlots:
    def __init__(self, state_dir: Path, shipped_dir: Path) -> None:
        self.root = state_dir / "models"
        self.shipped = shipped_dir
        self.active_link = self.root / "active"

    def active_dir(self) -> Path:
        """The directory the vision stages load from."""
        return self.active_link.resolve() if self.active_link.exists() else self.shipped

    def inactive_dir(self) -> Path:
        active = self.active_dir().name
        return self.root / ("slot-b" if active == "slot-a" else "slot-a")

    def stage(self, name: str, artifact: Path, sha256: str) -> Path:
        """Build a full model set in the inactive slot with `name` replaced by the artifact."""
        current = Manifest.load(self.active_dir())
        manifest = json.loads((current.directory / MANIFEST_NAME).read_text(encoding="utf-8"))
        entry = next((m for m in manifest["models"] if m["name"] == name), None)
        if entry is None:
            raise CommandRejected("invalid_params", f"no model named {name!r} to update")
        slot = self.inactive_dir()
        shutil.rmtree(slot, ignore_errors=True)
        slot.mkdir(parents=True)
        for other in current.entries:
            if other.name != name:
                _link_or_copy(current.directory / other.file, slot / other.file)
        golden = current.directory / "golden"  # the self-test's reference images
        if golden.is_dir():
            shutil.copytree(golden, slot / "golden", copy_function=_link_or_copy)
        new_file = f"{name}-{sha256[:12]}.tflite"
        shutil.copyfile(artifact, slot / new_file)
        entry.update({"file": new_file, "sha256": sha256, "source": {"package": "bureau update"}})
        (slot / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return slot

    def switch(self, slot: Path) -> Path | None:
        """Point `active` at slot atomically; return the previous target (None: shipped set)."""
        previous = self.active_link.resolve() if self.active_link.exists() else None
        tmp = self.root / ".active.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(slot.name)
        os.replace(tmp, self.active_link)
        return previous

    def restore(self, previous: Path | None) -> None:
        if previous is None:
            self.active_link.unlink(missing_ok=True)
        else:
            self.switch(previous)


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def fetch(url: str, target: Path, size: int, sha256: str) -> None:
    """Download url (bounded by size and a timeout) and check its sha256; refuse on mismatch."""
    digest = hashlib.sha256()
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(
            target, "wb"
        ) as out:
            while chunk := response.read(_CHUNK):
                received += len(chunk)
                if received > size:
                    raise CommandRejected("artifact_invalid", "artifact larger than announced")
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise CommandRejected("artifact_unavailable", str(exc)) from exc
    if received != size or digest.hexdigest() != sha256:
        raise CommandRejected("artifact_invalid", "size or sha256 does not match the signed values")


def install(
    slots: ModelSlots,
    name: str,
    artifact: Path,
    sha256: str,
    selftest: Callable[[Path], dict[str, Any]],
    activate: Callable[[Path], None],
) -> dict[str, Any]:
    """Stage, self-test, switch, activate; any failure leaves (or puts back) the previous set."""
    if file_sha256(artifact) != sha256:
        raise CommandRejected("artifact_invalid", "sha256 mismatch")
    slot = slots.stage(name, artifact, sha256)
    report = selftest(slot)
    if not report.get("ok"):
        shutil.rmtree(slot, ignore_errors=True)
        raise CommandRejected("selftest_failed", json.dumps(report.get("failures", [])))
    previous = slots.switch(slot)
    try:
        activate(slots.active_dir())
    except (ModelError, OSError) as exc:
        slots.restore(previous)
        activate(slots.active_dir())
        raise CommandRejected("rolled_back", str(exc)) from exc
    return {"active": slots.active_dir().name, "model": name, "sha256": sha256}
