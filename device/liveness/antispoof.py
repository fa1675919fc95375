"""The optional passive anti-spoofing model slot (manifest task "antispoof").

The default build ships no such model. An operator who installs one lists it in
models/manifest.json with task "antispoof", its input ("shape" [1, H, W, 3], "colour" RGB,
"normalisation" "x/255" or "x/127.5-1"), an "output" type ("live_probability", the default, or
"spoof_probability": the model's last output value) and a "threshold": the minimum live score
that passes. The file's sha256 is verified before load like every model.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from device.errors import ModelError
from device.vision.models import Manifest, ModelEntry
from device.vision.runtime import TFLiteModel
from device.vision.types import Box, Image

TASK = "antispoof"
OUTPUT_TYPES = ("live_probability", "spoof_probability")


class AntispoofModel:
    """One installed anti-spoofing model; not thread-safe."""

    def __init__(self, model: TFLiteModel, entry: ModelEntry) -> None:
        shape = tuple(model.inputs[0].shape)
        if len(shape) != 4 or shape[3] != 3:
            raise ModelError(f"{entry.name}: antispoof input must be [1, H, W, 3], not {shape}")
        if entry.threshold is None:
            raise ModelError(f"{entry.name}: antispoof entry needs a threshold")
        self._model = model
        self.entry = entry
        self.size = (int(shape[2]), int(shape[1]))
        self.threshold = float(entry.threshold)
        self._symmetric = "127.5" in str(entry.raw.get("input", {}).get("normalisation", ""))
        output = entry.raw.get("output", "live_probability")
        if output not in OUTPUT_TYPES:
            raise ModelError(f"{entry.name}: antispoof output must be one of {OUTPUT_TYPES}")
        self._inverted = output == "spoof_probability"

    @classmethod
    def from_manifest(cls, manifest: Manifest, num_threads: int = 1) -> AntispoofModel | None:
        """The installed model, or None when the manifest lists none."""
        entry = manifest.optional(TASK)
        if entry is None:
            return None
        return cls(manifest.open(entry, num_threads), entry)

    def score(self, rgb: Image, box: Box) -> float:
        """Live score (0..1) of the face in box, cropped with a 20 % margin."""
        height, width = rgb.shape[:2]
        cx, cy = box.center
        half = max(box.width, box.height) * 0.6
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        x1, y1 = min(width, int(cx + half)), min(height, int(cy + half))
        crop = cv2.resize(rgb[y0:y1, x0:x1], self.size).astype(np.float32)
        crop = crop / 127.5 - 1.0 if self._symmetric else crop / 255.0
        output = self._model.invoke(crop[None])[0]
        value = float(np.asarray(output, dtype=np.float64).ravel()[-1])
        return 1.0 - value if self._inverted else value


def selftest_report(models_dir: Path) -> dict[str, object]:
    """What `faceterm selftest` prints about the anti-spoofing slot."""
    try:
        manifest = Manifest.load(models_dir)
        entry = manifest.optional(TASK)
    except ModelError as exc:
        return {"antispoof": "error", "detail": str(exc)}
    if entry is None:
        return {
            "antispoof": "none",
            "detail": "no passive anti-spoofing model installed (task 'antispoof' absent from "
            "the manifest); liveness relies on the active challenge, screen flash and passive "
            "cues only",
        }
    try:
        manifest.verified_path(entry)
    except ModelError as exc:
        return {"antispoof": "error", "model": entry.model_id, "detail": str(exc)}
    return {"antispoof": "installed", "model": entry.model_id, "threshold": entry.threshold}
