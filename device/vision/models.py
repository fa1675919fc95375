"""The models manifest (models/manifest.json): every model is listed with its sha256, source and
input spec, and its checksum is verified before the file is handed to an interpreter."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.errors import ModelError
from device.vision.runtime import TFLiteModel

MANIFEST_NAME = "manifest.json"
SCHEMA = 1
TASKS = frozenset({"detect", "landmarks", "iris", "embed", "antispoof"})
OPTIONAL_TASKS = frozenset({"antispoof"})
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One manifest entry; `raw` keeps every field (accuracy, latency_ms, threshold...)."""

    name: str
    file: str
    sha256: str
    task: str
    variant: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def model_id(self) -> str:
        """`name@sha256[:12]`, as decision records cite models."""
        return f"{self.name}@{self.sha256[:12]}"

    @property
    def threshold(self) -> float | None:
        value = self.raw.get("threshold")
        return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True, slots=True)
class Manifest:
    """The parsed manifest of one models directory."""

    directory: Path
    entries: tuple[ModelEntry, ...]

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ModelError(f"{path}: cannot read models manifest: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise ModelError(f"{path}: not valid JSON: {exc}") from exc
        return cls(directory, parse_entries(data, str(path)))

    def find(
        self, name: str | None = None, task: str | None = None, variant: str | None = None
    ) -> ModelEntry:
        """The one entry matching every given criterion; ModelError if none or several match."""
        found = [
            e
            for e in self.entries
            if (name is None or e.name == name)
            and (task is None or e.task == task)
            and (variant is None or e.variant == variant)
        ]
        wanted = ", ".join(
            f"{k}={v}" for k, v in (("name", name), ("task", task), ("variant", variant)) if v
        )
        if not found:
            raise ModelError(f"{self.directory / MANIFEST_NAME}: no model with {wanted}")
        if len(found) > 1:
            names = ", ".join(e.name for e in found)
            where = self.directory / MANIFEST_NAME
            raise ModelError(f"{where}: several models with {wanted}: {names}")
        return found[0]

    def optional(self, task: str, variant: str | None = None) -> ModelEntry | None:
        """The entry for an optional slot (e.g. antispoof), or None when the manifest has none."""
        if not any(e.task == task for e in self.entries):
            return None
        return self.find(task=task, variant=variant)

    def verified_path(self, entry: ModelEntry) -> Path:
        """The model file's path after checking its sha256 against the manifest."""
        path = self.directory / entry.file
        try:
            digest = file_sha256(path)
        except OSError as exc:
            raise ModelError(f"model file {path}: cannot read: {exc.strerror}") from exc
        if digest != entry.sha256:
            raise ModelError(
                f"model file {path} fails its checksum (sha256 {digest[:16]}..., manifest says "
                f"{entry.sha256[:16]}...): refusing to load a modified or corrupt model"
            )
        return path

    def open(self, entry: ModelEntry, num_threads: int) -> TFLiteModel:
        """Verify, then load, one entry."""
        return TFLiteModel.open(self.verified_path(entry), num_threads)


def parse_entries(data: Any, source: str) -> tuple[ModelEntry, ...]:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ModelError(f"{source}: not a schema {SCHEMA} models manifest")
    models = data.get("models")
    if not isinstance(models, list):
        raise ModelError(f"{source}: 'models' must be a list")
    return tuple(_entry(item, f"{source}: models[{i}]") for i, item in enumerate(models))


def _entry(item: Any, where: str) -> ModelEntry:
    if not isinstance(item, dict):
        raise ModelError(f"{where}: not an object")
    for key in ("name", "file", "sha256", "task"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise ModelError(f"{where}: missing or empty {key!r}")
    file = item["file"]
    if Path(file).name != file:
        raise ModelError(f"{where}: file {file!r} must be a plain name inside the models directory")
    if item["task"] not in TASKS:
        raise ModelError(f"{where}: unknown task {item['task']!r}")
    sha = item["sha256"].lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ModelError(f"{where}: sha256 must be 64 hex digits")
    variant = item.get("variant") or ""
    return ModelEntry(item["name"], file, sha, item["task"], str(variant), dict(item))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def open_model(models_dir: Path, name: str, num_threads: int = 1) -> TFLiteModel:
    """Load the model called `name` from a models directory, after verifying its sha256."""
    manifest = Manifest.load(models_dir)
    return manifest.open(manifest.find(name=name), num_threads)
