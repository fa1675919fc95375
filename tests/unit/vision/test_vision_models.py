"""The models manifest: checksums verified before any load, lookups by task and variant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from device.errors import ModelError
from device.vision import models as models_mod
from device.vision.models import Manifest, file_sha256, open_model
from device.vision.runtime import TFLiteModel

DETECTOR = "face_detection_short_range"


def _copy(models_dir: Path, tmp_path: Path, names: tuple[str, ...] = (DETECTOR,)) -> Path:
    manifest = json.loads((models_dir / "manifest.json").read_text())
    manifest["models"] = [m for m in manifest["models"] if m["name"] in names]
    for entry in manifest["models"]:
        shutil.copyfile(models_dir / entry["file"], tmp_path / entry["file"])
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_every_listed_model_matches_its_checksum(models_dir: Path) -> None:
    manifest = Manifest.load(models_dir)
    tasks = {e.task for e in manifest.entries}
    assert {"detect", "landmarks", "iris"} <= tasks
    for entry in manifest.entries:
        assert manifest.verified_path(entry).is_file()


def test_a_modified_model_is_refused_before_loading(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _copy(models_dir, tmp_path)
    path = directory / f"{DETECTOR}.tflite"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    def must_not_load(*args: Any, **kwargs: Any) -> TFLiteModel:
        raise AssertionError("the interpreter was reached before the checksum check")

    monkeypatch.setattr(models_mod.TFLiteModel, "open", must_not_load)
    with pytest.raises(ModelError, match=rf"{DETECTOR}\.tflite.*checksum"):
        open_model(directory, DETECTOR, num_threads=1)


def test_an_intact_copy_loads(models_dir: Path, tmp_path: Path) -> None:
    model = open_model(_copy(models_dir, tmp_path), DETECTOR, num_threads=1)
    assert model.inputs[0].shape == (1, 128, 128, 3)


def test_a_missing_model_file_is_a_model_error(models_dir: Path, tmp_path: Path) -> None:
    directory = _copy(models_dir, tmp_path)
    (directory / f"{DETECTOR}.tflite").unlink()
    with pytest.raises(ModelError, match="cannot read"):
        open_model(directory, DETECTOR)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"file": "../face_detection_short_range.tflite"}, "plain name"),
        ({"sha256": "abc"}, "64 hex"),
        ({"task": "classify"}, "unknown task"),
        ({"name": ""}, "'name'"),
    ],
)
def test_malformed_entries_are_refused(
    models_dir: Path, tmp_path: Path, change: dict[str, str], message: str
) -> None:
    directory = _copy(models_dir, tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["models"][0].update(change)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=message):
        Manifest.load(directory)


def test_missing_or_foreign_manifest(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        Manifest.load(tmp_path)
    (tmp_path / "manifest.json").write_text('{"schema": 2, "models": []}')
    with pytest.raises(ModelError, match="schema 1"):
        Manifest.load(tmp_path)


def test_lookup_by_task_and_variant(models_dir: Path) -> None:
    manifest = Manifest.load(models_dir)
    assert manifest.find(task="detect", variant="full_range").name == "face_detection_full_range"
    with pytest.raises(ModelError, match="several models"):
        manifest.find(task="detect")
    with pytest.raises(ModelError, match="no model"):
        manifest.find(name="nothing-here")
    entry = manifest.find(name=DETECTOR)
    assert entry.model_id == f"{DETECTOR}@{file_sha256(models_dir / entry.file)[:12]}"


def test_antispoof_is_an_optional_slot(models_dir: Path, tmp_path: Path) -> None:
    manifest = Manifest.load(_copy(models_dir, tmp_path))
    assert manifest.optional("antispoof") is None
    assert manifest.optional("detect") is not None
