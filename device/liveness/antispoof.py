"""The optional passive anti-spoofing model slot (manifest task "antispoof").

The default build ships no such model. An operator who installs one lists it in
models/manifest.json with task "antispoof", its input ("shape" [1, H, W, 3], "colour" RGB,
"normalisation" "x/255", "x/127.5-1" or "none" for 0-255, "crop_scale": the square crop's side
as a multiple of the face box, shifted to stay inside the frame), an "output" type
("live_probability", the default, or "spoof_probability": the model's last output value, or
"softmax": logits, with "live_class" the index of the bona fide class) and a "threshold": the
minimum live score that passes. The file's sha256 is verified before load like every model.

`make models` installs one (scripts/build_antispoof.py): MiniFASNet-style `fr_liveness.onnx`
from npm faceplugin-face-recognition-js 0.0.1, converted to TFLite float16.
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
OUTPUT_TYPES = ("live_probability", "spoof_probability", "softmax")
DEFAULT_CROP_SCALE = 1.2


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
        spec = entry.raw.get("input", {})
        norm = str(spec.get("normalisation", "x/255"))
        self._scale, self._offset = (127.5, 1.0) if "127.5" in norm else (255.0, 0.0)
        if norm.startswith("none"):
            self._scale = 1.0
        self.crop_scale = float(spec.get("crop_scale", DEFAULT_CROP_SCALE))
        output = entry.raw.get("output", "live_probability")
        if output not in OUTPUT_TYPES:
            raise ModelError(f"{entry.name}: antispoof output must be one of {OUTPUT_TYPES}")
        self._output = str(output)
        self._live_class = int(entry.raw.get("live_class", 0))

    @classmethod
    def from_manifest(cls, manifest: Manifest, num_threads: int = 1) -> AntispoofModel | None:
        """The installed model, or None when the manifest lists none."""
        entry = manifest.optional(TASK)
        if entry is None:
            return None
        return cls(manifest.open(entry, num_threads), entry)

    @property
    def model_id(self) -> str:
        return self.entry.model_id

    def score(self, rgb: Image, box: Box) -> float:
        """Live score (0..1) of the face in box."""
        crop = face_crop(rgb, box, self.crop_scale, self.size).astype(np.float32)
        output = self._model.invoke(crop / self._scale - self._offset)[0]
        values = np.asarray(output, dtype=np.float64).ravel()
        if self._output == "softmax":
            probabilities = np.exp(values - values.max())
            return float(probabilities[self._live_class] / probabilities.sum())
        value = float(values[-1])
        return 1.0 - value if self._output == "spoof_probability" else value


def _shift_inside(start: float, end: float, limit: float) -> tuple[int, int]:
    if start < 0:
        start, end = 0.0, end - start
    if end > limit:
        start, end = start - (end - limit), limit
    return max(0, int(start)), max(1, int(end))


def face_crop(rgb: Image, box: Box, scale: float, size: tuple[int, int]) -> Image:
    """The face box scaled by `scale` about its centre (less when the frame is too small),
    shifted to lie inside the frame, resized to size (the MiniFASNet crop)."""
    height, width = rgb.shape[:2]
    bw, bh = max(box.width, 1.0), max(box.height, 1.0)
    factor = min((height - 1) / bh, (width - 1) / bw, scale)
    cx, cy = box.center
    x0, x1 = _shift_inside(cx - bw * factor / 2, cx + bw * factor / 2, width - 1)
    y0, y1 = _shift_inside(cy - bh * factor / 2, cy + bh * factor / 2, height - 1)
    resized: Image = np.asarray(cv2.resize(rgb[y0:y1, x0:x1], size), dtype=np.uint8)
    return resized


def selftest_report(models_dir: Path, enabled: bool = True) -> dict[str, object]:
    """What `faceterm selftest` prints about the anti-spoofing slot (and whether it is on)."""
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
    state = "active" if enabled else "off ([liveness] antispoof_model = false)"
    return {
        "antispoof": "active" if enabled else "installed",
        "detail": f"{entry.model_id} {state}, live threshold {entry.threshold}",
        "model": entry.model_id,
        "threshold": entry.threshold,
        "source": entry.raw.get("source", {}),
        "accuracy": entry.raw.get("accuracy", {}),
    }
