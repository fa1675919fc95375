"""Model updates into an inactive slot, switched atomically, rolled back on a failed self-test.

Layout under the state directory: models/slot-a and models/slot-b each hold a complete model set
(manifest.json and files, hard-linked where unchanged); models/active is a symlink to one of
them. Without it the shipped models directory is used.

An update binds file, variant and threshold: the bureau signs all three, the variant must be the
entry's own (an int8 file under the fp16 entry is refused) and the entry takes the signed
threshold, so a threshold never outlives the file it was calibrated for.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.errors import CommandRejected, ModelError
from device.vision.models import MANIFEST_NAME, Manifest, file_sha256

DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK = 1 << 16
FILE_UNAVAILABLE = "file artifact not available (file:// is read only below fleet.artifacts_dir)"


@dataclass(frozen=True, slots=True)
class Binding:
    """What the signed update says about the file: the entry, its hash, variant and threshold."""

    name: str
    sha256: str
    variant: str
    threshold: float | None


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

    def stage(self, binding: Binding, artifact: Path) -> Path:
        """Build a full model set in the inactive slot with the bound entry replaced."""
        name, sha256 = binding.name, binding.sha256
        current = Manifest.load(self.active_dir())
        manifest = json.loads((current.directory / MANIFEST_NAME).read_text(encoding="utf-8"))
        entry = next((m for m in manifest["models"] if m["name"] == name), None)
        if entry is None:
            raise CommandRejected("invalid_params", f"no model named {name!r} to update")
        _check_binding(entry, binding)
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
        entry.update({"file": new_file, "sha256": sha256, "threshold": binding.threshold,
                      "size_bytes": artifact.stat().st_size,
                      "source": {"package": "bureau update"}})
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


def _check_binding(entry: dict[str, Any], binding: Binding) -> None:
    if entry.get("variant") != binding.variant:
        raise CommandRejected("artifact_invalid", f"a {binding.variant} file cannot replace the "
                              f"{entry.get('variant')} entry {binding.name!r}")
    if entry.get("threshold") is not None and binding.threshold is None:
        raise CommandRejected("artifact_invalid", f"{binding.name!r} needs the threshold "
                              "calibrated for the new file")


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def fetch(url: str, target: Path, size: int, sha256: str, artifacts_dir: Path | None) -> None:
    """Download url (bounded by size and a timeout) and check its sha256; refuse on mismatch.
    file:// URLs are read only below artifacts_dir; a refusal says nothing about the file."""
    digest = hashlib.sha256()
    received = 0
    try:
        with _open_source(url, artifacts_dir) as response, open(target, "wb") as out:
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


@contextmanager
def _open_source(url: str, artifacts_dir: Path | None) -> Iterator[Any]:
    if not url.startswith("file:"):
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            yield response
        return
    path = _artifact_path(url, artifacts_dir)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, errors mapped to one answer
    except OSError:
        raise CommandRejected("artifact_unavailable", FILE_UNAVAILABLE) from None
    with handle:
        yield handle


def _artifact_path(url: str, artifacts_dir: Path | None) -> Path:
    """The file a file:// URL names, if it lies (symlinks resolved) below artifacts_dir."""
    parsed = urllib.parse.urlparse(url)
    if artifacts_dir is None or parsed.netloc not in ("", "localhost") or parsed.query:
        raise CommandRejected("artifact_unavailable", FILE_UNAVAILABLE)
    path = Path(urllib.parse.unquote(parsed.path)).resolve()
    if not path.is_relative_to(artifacts_dir.resolve()) or not path.is_file():
        raise CommandRejected("artifact_unavailable", FILE_UNAVAILABLE)
    return path


def install(
    slots: ModelSlots,
    binding: Binding,
    artifact: Path,
    selftest: Callable[[Path], dict[str, Any]],
    activate: Callable[[Path], None],
) -> dict[str, Any]:
    """Stage, self-test, switch, activate; any failure leaves (or puts back) the previous set."""
    name, sha256 = binding.name, binding.sha256
    if file_sha256(artifact) != sha256:
        raise CommandRejected("artifact_invalid", "sha256 mismatch")
    slot = slots.stage(binding, artifact)
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
