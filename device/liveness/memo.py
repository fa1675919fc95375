"""The real analyzer and embedder, remembering their answers for bit-identical inputs.

Puppets of real footage show the same frames in many sessions and the models are
deterministic, so long evaluations (puppet_eval.py, elderly_eval.py) ask each frame once.
Bounded: the oldest answers are forgotten first.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np

from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.types import FaceObservation, Vector


def _digest(image: Any) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()


class MemoAnalyzer(FaceAnalyzer):
    """The real analyzer, remembering its `analyze` answers for bit-identical frames (the puppet
    is built from the same footage frames in every session; the models are deterministic).
    Bounded: the oldest answers are forgotten first. `track` (the frame loop's) is not
    remembered: its answer depends on the frames before."""

    def __init__(self, real: FaceAnalyzer, size: int = 4000) -> None:
        super().__init__(real.detector, real.landmarker, real.iris, real.model_ids,
                         real.min_mesh_presence, real.redetect_every_n_frames)  # fmt: skip
        self._memo: OrderedDict[tuple[bytes, bool, int], list[FaceObservation]] = OrderedDict()
        self._size = size

    def analyze(
        self, rgb: Any, with_iris: bool = False, max_faces: int = 2
    ) -> list[FaceObservation]:
        key = (_digest(rgb), with_iris, max_faces)
        if key not in self._memo:
            self._memo[key] = super().analyze(rgb, with_iris, max_faces)
            while len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return self._memo[key]


class MemoEmbedder(Embedder):
    def __init__(self, real: Embedder, size: int = 20000) -> None:
        super().__init__(real._model, real.entry)
        self._memo: OrderedDict[bytes, Vector] = OrderedDict()
        self._size = size

    def embed(self, aligned_rgb_112: Any) -> Vector:
        key = _digest(aligned_rgb_112)
        if key not in self._memo:
            self._memo[key] = super().embed(aligned_rgb_112)
            while len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return self._memo[key]
