"""BlazeFace face detection: letterbox, SSD anchor decoding, weighted NMS, back to frame pixels.

Anchor layouts follow MediaPipe's SsdAnchorsCalculator options for the two face detectors
(min_scale 0.1484375, max_scale 0.75, anchor offset 0.5, aspect ratio 1, fixed anchor size):
short range 128x128 with strides 8,16,16,16 and an interpolated anchor per layer (2 anchors per
cell at stride 8, 6 at stride 16: 512 + 384 = 896); full range 192x192 with stride 4 and no
interpolated anchor (48 x 48 = 2304). With fixed anchor sizes only the anchor centres matter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import cv2
import numpy as np
import numpy.typing as npt

from device.errors import ModelError
from device.vision.runtime import TFLiteModel
from device.vision.types import Box, Detection, Image

Floats = npt.NDArray[np.float32]
NUM_KEYPOINTS = 6
RAW_SCORE_CLIP = 100.0


@dataclass(frozen=True, slots=True)
class AnchorLayout:
    """The SSD anchor grid of one detector model."""

    input_size: int
    strides: tuple[int, ...]
    interpolated: bool

    def centres(self) -> Floats:
        """Anchor centres (N x 2, normalised x, y) in the model's output order."""
        parts: list[Floats] = []
        i = 0
        while i < len(self.strides):
            stride = self.strides[i]
            run = 0
            while i + run < len(self.strides) and self.strides[i + run] == stride:
                run += 1
            per_cell = run * (2 if self.interpolated else 1)
            cells = -(-self.input_size // stride)
            grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
            ys, xs = np.meshgrid(grid, grid, indexing="ij")
            centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
            parts.append(np.repeat(centres, per_cell, axis=0))
            i += run
        return np.concatenate(parts).astype(np.float32)


SHORT_RANGE = AnchorLayout(128, (8, 16, 16, 16), interpolated=True)
FULL_RANGE = AnchorLayout(192, (4,), interpolated=False)
LAYOUTS: Mapping[str, AnchorLayout] = MappingProxyType(
    {"short_range": SHORT_RANGE, "full_range": FULL_RANGE}
)


@dataclass(frozen=True, slots=True)
class Letterbox:
    """Frame -> square model input: input = frame * scale + (pad_x, pad_y)."""

    scale: float
    pad_x: float
    pad_y: float

    def to_frame(self, points: Floats) -> Floats:
        """Points in input pixels (..., 2) back to frame pixels."""
        offset = np.array([self.pad_x, self.pad_y], dtype=np.float32)
        return ((points - offset) / self.scale).astype(np.float32)


def letterbox(rgb: Image, size: int) -> tuple[Image, Letterbox]:
    """Resize keeping aspect ratio into a size x size black square, centred."""
    height, width = rgb.shape[:2]
    scale = size / max(height, width)
    new_w = max(1, min(size, round(width * scale)))
    new_h = max(1, min(size, round(height * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=interp)
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    square = np.zeros((size, size, 3), dtype=np.uint8)
    square[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    return square, Letterbox(new_w / width, float(pad_x), float(pad_y))


def decode(raw: Floats, logits: Floats, anchors: Floats, size: int) -> tuple[Floats, Floats]:
    """Raw regressors (N x 16: cx, cy, w, h, 6 keypoints x, y; in input pixels relative to the
    anchor) to (N x 16 absolute input pixels as x0, y0, x1, y1, keypoints; N scores)."""
    clipped = np.clip(logits.reshape(-1).astype(np.float64), -RAW_SCORE_CLIP, RAW_SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-clipped))
    centre = anchors * size
    cx = raw[:, 0] + centre[:, 0]
    cy = raw[:, 1] + centre[:, 1]
    half_w, half_h = raw[:, 2] / 2.0, raw[:, 3] / 2.0
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    keypoints = raw[:, 4 : 4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2) + centre[:, None]
    out = np.concatenate([boxes, keypoints.reshape(-1, 2 * NUM_KEYPOINTS)], axis=1)
    return out.astype(np.float32), scores.astype(np.float32)


def iou(box: Floats, others: Floats) -> Floats:
    """Intersection over union of one x0, y0, x1, y1 box with each of `others`."""
    ix0 = np.maximum(box[0], others[:, 0])
    iy0 = np.maximum(box[1], others[:, 1])
    ix1 = np.minimum(box[2], others[:, 2])
    iy1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


def weighted_nms(rows: Floats, scores: Floats, min_iou: float) -> list[tuple[Floats, float]]:
    """MediaPipe's weighted suppression: each cluster of rows overlapping the best remaining one
    by more than `min_iou` is replaced by its score-weighted mean, keeping the best score."""
    order = np.argsort(-scores, kind="stable")
    rows, scores = rows[order], scores[order]
    kept: list[tuple[Floats, float]] = []
    while len(rows):
        overlap = iou(rows[0], rows)
        cluster = overlap > min_iou
        cluster[0] = True
        weights = scores[cluster]
        blended = (rows[cluster] * weights[:, None]).sum(axis=0) / weights.sum()
        kept.append((blended.astype(np.float32), float(scores[0])))
        rows, scores = rows[~cluster], scores[~cluster]
    return kept


class FaceDetector:
    """BlazeFace on one frame; `detect` returns detections sorted by decreasing score."""

    def __init__(
        self, model: TFLiteModel, layout: AnchorLayout, min_score: float, min_iou: float = 0.3
    ) -> None:
        self._model = model
        self.layout = layout
        self.min_score = min_score
        self.min_iou = min_iou
        self._anchors = layout.centres()
        expected = (1, layout.input_size, layout.input_size, 3)
        if len(model.inputs) != 1 or model.inputs[0].shape != expected:
            raise ModelError(f"{model.label}: detector input must be {expected}")
        sizes = sorted(int(np.prod(o.shape)) for o in model.outputs)
        if sizes != [len(self._anchors), len(self._anchors) * 16]:
            raise ModelError(f"{model.label}: outputs do not match {len(self._anchors)} anchors")

    def detect(self, rgb: Image) -> list[Detection]:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"detect needs an HxWx3 uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
        square, box = letterbox(rgb, self.layout.input_size)
        tensor = square.astype(np.float32) / 127.5 - 1.0
        outputs = self._model.invoke(tensor)
        raw, logits = sorted(outputs, key=lambda o: -int(o.shape[-1]))
        raw = raw.reshape(-1, 16).astype(np.float32)
        rows, scores = decode(raw, logits.astype(np.float32), self._anchors, self.layout.input_size)
        keep = scores >= self.min_score
        found = weighted_nms(rows[keep], scores[keep], self.min_iou)
        return [_to_detection(row, score, box) for row, score in found]


def _to_detection(row: Floats, score: float, box: Letterbox) -> Detection:
    corners = box.to_frame(row[:4].reshape(2, 2))
    keypoints = box.to_frame(row[4:].reshape(NUM_KEYPOINTS, 2))
    (x0, y0), (x1, y1) = corners
    return Detection(Box(float(x0), float(y0), float(x1), float(y1)), score, keypoints)
