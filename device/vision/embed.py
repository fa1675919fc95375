"""SFace face embeddings: an aligned 112x112 RGB crop in, an L2-normalised float32[128] out.

The variants (models/manifest.json, task "embed") share SFace's weights: `sface_fp16` (float16
weights, float compute, the default) and `sface_int8` (full-integer int8, per-channel). Both take
RGB pixel values 0..255 in NHWC and normalise inside the model ((x - 127.5) / 128); the int8
variant's input is quantized by the runtime from the same float pixel values. Each variant has
its own cosine threshold in the manifest (the operating point at FAR 1e-3).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from device.errors import ModelError
from device.vision.models import Manifest, ModelEntry
from device.vision.runtime import TFLiteModel
from device.vision.settings import VisionSettings
from device.vision.types import Image, Vector

EMBED_SIZE = 128
CROP_SHAPE = (112, 112, 3)
class Embedder:
    """One embedding model; not thread-safe (one Embedder per inference thread)."""

    def __init__(self, model: TFLiteModel, entry: ModelEntry | None = None) -> None:
        expected = (1, *CROP_SHAPE)
        if len(model.inputs) != 1 or model.inputs[0].shape != expected:
            raise ModelError(f"{model.label}: embedding input must be {expected}")
        if len(model.outputs) != 1 or int(np.prod(model.outputs[0].shape)) != EMBED_SIZE:
            raise ModelError(f"{model.label}: embedding output must hold {EMBED_SIZE} values")
        self._model = model
        self.entry = entry

    @classmethod
    def from_manifest(cls, manifest: Manifest, variant: str, num_threads: int = 1) -> Embedder:
        """The embed model of `variant`, its sha256 verified before loading."""
        entry = manifest.find(task="embed", variant=variant)
        return cls(manifest.open(entry, num_threads), entry)

    @classmethod
    def from_settings(cls, settings: VisionSettings, base_dir: Path | None = None) -> Embedder:
        """The variant named by `[vision] embed_variant` in `models_dir` (relative to base_dir)."""
        models_dir = Path(settings.models_dir)
        if base_dir is not None and not models_dir.is_absolute():
            models_dir = base_dir / models_dir
        manifest = Manifest.load(models_dir)
        return cls.from_manifest(manifest, settings.embed_variant, settings.num_threads)

    @property
    def model_id(self) -> str:
        """`name@sha256[:12]` for decision records ("unverified" when built without a manifest)."""
        return self.entry.model_id if self.entry else f"{self._model.label}@unverified"

    @property
    def threshold(self) -> float | None:
        """The variant's cosine threshold at FAR 1e-3, from the manifest."""
        return self.entry.threshold if self.entry else None

    def embed(self, aligned_rgb_112: Image) -> Vector:
        """float32[128], L2-normalised, for one aligned uint8 112x112x3 RGB crop."""
        crop = _check_crop(aligned_rgb_112)
        (raw,) = self._model.invoke(crop.astype(np.float32)[np.newaxis])
        return l2_normalise(np.asarray(raw, dtype=np.float32).reshape(EMBED_SIZE))

    def embed_batch(self, crops: Iterable[Image] | Image) -> npt.NDArray[np.float32]:
        """An (N, 128) array, one normalised row per crop (the model runs one crop at a time)."""
        rows = [self.embed(crop) for crop in crops]
        if not rows:
            return np.zeros((0, EMBED_SIZE), dtype=np.float32)
        return np.stack(rows)


def _check_crop(crop: Image) -> Image:
    array = np.asarray(crop)
    if array.shape != CROP_SHAPE or array.dtype != np.uint8:
        raise ValueError(
            f"embed needs an aligned 112x112x3 uint8 RGB crop, got {array.shape} {array.dtype}"
        )
    return array


def l2_normalise(vector: npt.NDArray[Any]) -> Vector:
    """The vector scaled to unit length (a zero vector stays zero)."""
    values = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(values))
    if not np.isfinite(norm):
        raise ModelError("embedding is not finite")
    return values / norm if norm > 0.0 else values


def cosine(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    """Cosine similarity in [-1, 1] (0.0 when either vector is zero)."""
    left = np.asarray(a, dtype=np.float64).reshape(-1)
    right = np.asarray(b, dtype=np.float64).reshape(-1)
    if left.shape != right.shape:
        raise ValueError(f"cosine of vectors of different sizes {left.shape} and {right.shape}")
    denominator = float(np.linalg.norm(left) * np.linalg.norm(right))
    return float(left @ right) / denominator if denominator > 0.0 else 0.0
