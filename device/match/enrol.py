"""Service-window enrolment: photos in, one reference embedding out (detect, align, embed,
average). Used by `faceterm enroll` and by the tests and evaluations that need a reference."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from device.session.settings import QualitySettings
from device.vision.align import align_face, five_points
from device.vision.quality import assess
from device.vision.types import AnalyzerPort, EmbedderPort, Image, Vector

# Gates that do not disqualify a still photo taken by a service-window clerk: the guide oval,
# the stillness of a live stream and the kiosk's distance limits do not apply to it.
IGNORED_FOR_STILLS = frozenset({"off_centre", "not_still", "too_close", "backlit"})


@dataclass(frozen=True, slots=True)
class Enrolment:
    embedding: Vector | None = field(repr=False)
    used: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]  # (image label, guidance code)


def read_rgb(path: Path) -> Image:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot decode image {path}")
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def average(vectors: Iterable[Vector]) -> Vector | None:
    """The L2-normalised mean of L2-normalised vectors (None for none)."""
    rows = [np.asarray(v, dtype=np.float32) for v in vectors]
    if not rows:
        return None
    mean = np.mean([r / max(float(np.linalg.norm(r)), 1e-12) for r in rows], axis=0)
    return np.asarray(mean / max(float(np.linalg.norm(mean)), 1e-12), dtype=np.float32)


def enrol_images(
    images: Iterable[tuple[str, Image]],
    analyzer: AnalyzerPort,
    embedder: EmbedderPort,
    quality: QualitySettings,
    strict: bool = True,
) -> Enrolment:
    """Embed every usable photo (exactly one face; with `strict`, no quality issue either)."""
    used: list[str] = []
    refused: list[tuple[str, str]] = []
    vectors: list[Vector] = []
    for label, rgb in images:
        faces = analyzer.analyze(rgb, max_faces=2)
        if len(faces) != 1:
            refused.append((label, "no_face" if not faces else "multiple_faces"))
            continue
        points = five_points(faces[0])
        aligned = align_face(rgb, points)
        report = assess(rgb, faces, aligned, [points], quality)
        issues = [code for code in report.issues if code not in IGNORED_FOR_STILLS]
        if strict and issues:
            refused.append((label, issues[0]))
            continue
        vectors.append(embedder.embed(aligned))
        used.append(label)
    return Enrolment(average(vectors), tuple(used), tuple(refused))
