"""Self-test: each check answers ok or not with a short detail; nothing here changes state.

Used by `faceterm selftest`, the fleet's selftest.run, and the model-update gate (models only).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from device.errors import FacetermError
from device.vision.align import align_face, five_points
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder, cosine
from device.vision.settings import VisionSettings

GOLDEN = "golden/astronaut.jpg"
MIN_FREE_BYTES = 200 * 1024 * 1024
EARLIEST_SANE = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a clock before the build is wrong


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def report(checks: list[Check]) -> dict[str, Any]:
    return {
        "ok": all(c.ok for c in checks),
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        "failures": [f"{c.name}: {c.detail}" for c in checks if not c.ok],
    }


def guarded(name: str, probe: Callable[[], str]) -> Check:
    """Run one probe; an exception is a failed check with its message."""
    try:
        return Check(name, True, probe())
    except (FacetermError, OSError, ValueError, RuntimeError) as exc:
        return Check(name, False, str(exc) or type(exc).__name__)


def check_models(models_dir: Path, settings: VisionSettings) -> Check:
    """Load every model (sha256 verified), find the golden face and match it against itself
    seen at another scale and exposure: golden behaviour, not just loadable files."""

    def probe() -> str:
        local = settings.model_copy(update={"models_dir": str(models_dir)})
        analyzer = FaceAnalyzer.load(local)
        embedder = Embedder.from_settings(local)
        bgr = cv2.imread(str(models_dir / GOLDEN))
        if bgr is None:
            raise ValueError(f"{models_dir / GOLDEN} missing")
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        other = cv2.convertScaleAbs(cv2.resize(rgb, None, fx=0.7, fy=0.7), alpha=0.8, beta=10)
        a, b = (_embed_only_face(analyzer, embedder, image) for image in (rgb, other))
        score = cosine(a, b)
        threshold = embedder.threshold if embedder.threshold is not None else 0.3
        if not np.isfinite(score) or score < max(threshold, 0.5):
            raise ValueError(f"golden pair scored {score:.3f}")
        worst = max(cosine(a, embedder.embed(crop)) for crop in _non_matches(analyzer, rgb))
        if not np.isfinite(worst) or worst >= threshold:
            raise ValueError(f"a non-face probe scored {worst:.3f} >= {threshold:.3f}: the model "
                             "does not tell faces apart")
        return f"golden pair cosine {score:.3f}, non-match {worst:.3f} ({embedder.model_id})"

    return guarded("models", probe)


def _non_matches(analyzer: FaceAnalyzer, rgb: Any) -> list[Any]:
    """Probes that must not match the golden face: its aligned crop upside down and with its
    pixels shuffled (same colours, no face). A collapsed model that maps everything to one
    vector accepts them and fails here. (SFace fp16: 0.17 and 0.01 against a 0.34 threshold.)"""
    crop = align_face(rgb, five_points(analyzer.analyze(rgb)[0]))
    order = np.random.default_rng(0).permutation(crop.shape[0] * crop.shape[1])
    shuffled = crop.reshape(-1, 3)[order].reshape(crop.shape)
    return [np.ascontiguousarray(crop[::-1]), np.ascontiguousarray(shuffled)]


def _embed_only_face(analyzer: FaceAnalyzer, embedder: Embedder, rgb: Any) -> Any:
    faces = analyzer.analyze(rgb)
    if len(faces) != 1:
        raise ValueError(f"golden image: {len(faces)} faces found, expected 1")
    vector = embedder.embed(align_face(rgb, five_points(faces[0])))
    if vector.shape != (128,) or abs(float(np.linalg.norm(vector)) - 1.0) > 1e-3:
        raise ValueError("embedding is not a unit 128-vector")
    return vector


def check_clock(now_s: float | None = None) -> Check:
    now = time.time() if now_s is None else now_s
    synced = Path("/run/systemd/timesync/synchronized").exists()
    ok = EARLIEST_SANE <= now < 4_102_444_800.0
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return Check("clock", ok, f"{when}{' (NTP synchronised)' if synced else ''}")


def check_disk(path: Path, min_free: int = MIN_FREE_BYTES) -> Check:
    def probe() -> str:
        free = shutil.disk_usage(path).free
        if free < min_free:
            raise ValueError(f"only {free // 2**20} MiB free at {path}")
        return f"{free // 2**20} MiB free"

    return guarded("disk", probe)


def running_selftest(
    status: dict[str, Any], models_dir: Path, settings: VisionSettings, state_dir: Path
) -> dict[str, Any]:
    """The full self-test of a running kiosk, from its daemon status (the fleet's selftest.run)."""
    from device.liveness.antispoof import selftest_report  # loads a model only when asked

    checks = [
        check_models(models_dir, settings),
        guarded("camera", lambda: _frames(status.get("camera", {}))),
        guarded("cardreader", lambda: _reader(status.get("cardreader", {}))),
        guarded("broker", lambda: _broker(status.get("publisher", {}))),
        check_clock(),
        check_disk(state_dir),
    ]
    spoof = selftest_report(models_dir)
    checks.append(Check("antispoof", spoof.get("antispoof") != "error", str(spoof["detail"])))
    return report(checks)


def _frames(camera: dict[str, Any]) -> str:
    if not camera.get("frames"):
        raise RuntimeError("no frame captured yet")
    return f"{camera['frames']} frames, {camera.get('restarts', 0)} restarts"


def _reader(reader: dict[str, Any]) -> str:
    if not reader.get("connected"):
        raise RuntimeError("ID-card reader not connected (SAM not answering)")
    return f"SAM answering on {reader.get('port')}"


def _broker(publisher: dict[str, Any]) -> str:
    if not publisher.get("connected"):
        raise RuntimeError(f"broker not reachable: {publisher.get('last_error')}")
    return f"connected; outbox depth {publisher.get('outbox', {}).get('depth')}"
