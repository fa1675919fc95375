"""Per-stage latency, one verification's compute and sustained frames per second, on one thread.

Helper of scripts/bench.py: every stage is the package's own code (device.vision, device.liveness,
device.match, device.publish) on real images (scikit-image's astronaut, and a fixed sample of
lfw-dev when it exists); nothing is re-implemented here.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from bench_common import PERSONAL, RECORD

from device.camera.base import Frame
from device.liveness.api import LivenessProbe
from device.liveness.measures import measure
from device.liveness.passive import cues
from device.liveness.settings import LivenessSettings
from device.match.matcher import Matcher, resolve_threshold
from device.publish.envelope import Envelope, Signer, uuid7
from device.publish.outbox import Outbox
from device.session.settings import QualitySettings, SessionSettings
from device.vision.align import align_face, five_points
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.quality import assess
from device.vision.settings import VisionSettings
from device.vision.types import FaceObservation

Image = npt.NDArray[np.uint8]
FRAME_DT_S = 1.0 / 15.0  # [camera] fps default: 15


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def summary(samples_ms: Sequence[float]) -> dict[str, Any]:
    """Median and p90 of samples in ms, their count and the 1-min load average now."""
    values = np.asarray(samples_ms, dtype=np.float64)
    return {
        "median_ms": round(float(np.median(values)), 3),
        "mean_ms": round(float(values.mean()), 3),
        "p90_ms": round(float(np.percentile(values, 90)), 3),
        "n": int(values.size),
        "load1": load_avg(),
    }


@dataclass
class Parts:
    """Every model and policy object a verification uses, loaded once, one thread each."""

    analyzer: FaceAnalyzer
    embedder: Embedder
    matcher: Matcher
    quality: QualitySettings
    liveness: LivenessSettings
    signer: Signer
    tmp: Path
    probe: LivenessProbe = field(init=False)

    def __post_init__(self) -> None:
        self.probe = LivenessProbe(self.liveness, np.random.default_rng(7))


def load_parts(models_dir: Path, tmp: Path) -> Parts:
    from joserfc.jwk import OKPKey

    vision = VisionSettings(models_dir=str(models_dir), num_threads=1)
    analyzer = FaceAnalyzer.load(vision)
    embedder = Embedder.from_settings(vision)
    session = SessionSettings()
    threshold = resolve_threshold(session.match_threshold, embedder.threshold, session.match_margin)
    matcher = Matcher(threshold, session.best_frames, session.fusion)
    signer = Signer("bench-1", OKPKey.generate_key("Ed25519"), OKPKey.generate_key("X25519"))
    return Parts(analyzer, embedder, matcher, session.quality, LivenessSettings(), signer, tmp)


@dataclass(frozen=True)
class Prepared:
    """One image with its single face analysed once (inputs for the later stages)."""

    rgb: Image
    face: FaceObservation
    aligned: Image


def prepare(parts: Parts, images: Sequence[Image]) -> list[Prepared]:
    out = []
    for rgb in images:
        faces = parts.analyzer.analyze(rgb, with_iris=True, max_faces=2)
        if len(faces) == 1 and faces[0].mesh is not None:
            out.append(Prepared(rgb, faces[0], align_face(rgb, five_points(faces[0]))))
    return out


class ProbeDriver:
    """Feeds frames to one LivenessProbe on a simulated 15 fps clock, starting a new attempt
    whenever the previous one reached its verdict (a still image never does the actions, so
    attempts end by timeout; observe() stays on its per-frame path throughout)."""

    def __init__(self, probe: LivenessProbe) -> None:
        self.probe = probe
        self.now_s = 0.0
        self.sequence = 0
        probe.begin(self.now_s)

    def needs_eyes(self) -> bool:
        """Whether the next frame needs the iris model (LivenessProbe.needs_eyes)."""
        return self.probe.needs_eyes(self.now_s + FRAME_DT_S)

    def observe(self, rgb: Image, face: FaceObservation | None, embedding: Any = None) -> None:
        self.sequence += 1
        self.now_s += FRAME_DT_S
        frame = Frame(rgb, self.sequence, self.now_s)
        self.probe.observe(frame, face, embedding, self.now_s)
        if self.probe.verdict(self.now_s) is not None:
            self.probe.begin(self.now_s)


def stage_samples(parts: Parts, items: Sequence[Prepared], rounds: int
                  ) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU ms of each stage on each item, `rounds` times (after a warm-up pass)."""
    a, q = parts.analyzer, parts.quality
    reference = parts.embedder.embed(items[0].aligned)
    driver = ProbeDriver(parts.probe)
    outbox = Outbox(parts.tmp / f"enqueue-{time.monotonic_ns()}.sqlite3", 10**7, 0.8)
    outbox.open()
    steps: dict[str, Callable[[Prepared], object]] = {
        "detect": lambda p: a.detector.detect(p.rgb),
        "landmarks (face mesh)": lambda p: a.landmarker.run(p.rgb, p.face.detection),
        "iris (both eyes)": lambda p: a.iris.run_with_contours(p.rgb, p.face.mesh.points),  # type: ignore[union-attr]
        "analyze (detect+mesh+iris+pose)": lambda p: a.analyze(p.rgb, with_iris=True),
        "track (frame loop: mesh from the last mesh)": lambda p: a.track(p.rgb),
        "align (5-point, 112x112)": lambda p: align_face(p.rgb, five_points(p.face)),
        "quality (assess)": lambda p: assess(p.rgb, [p.face], p.aligned,
                                             [five_points(p.face)] * 2, q),
        "liveness measure()": lambda p: measure(p.rgb, p.face),
        "liveness passive cues()": lambda p: cues(p.rgb, p.face.detection.box),
        "liveness observe() per frame": lambda p: driver.observe(p.rgb, p.face),
        "embed (sface_fp16)": lambda p: parts.embedder.embed(p.aligned),
        "match (3 probes)": lambda p: parts.matcher.match([reference] * 3, reference),
        "sign (JWS Ed25519 + JWE)": lambda p: parts.signer.make(RECORD, PERSONAL, 1),
        "enqueue (Outbox.append, WAL, FULL)": lambda p: outbox.append(
            "bench/result", lambda seq: Envelope(str(uuid7()), seq, "x" * 1500)),
    }
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in steps}
    try:
        for name, step in steps.items():
            for item in items[:3]:
                step(item)
            wall, cpu = samples[name]
            for _ in range(rounds):
                for item in items:
                    started, cpu_started = time.perf_counter(), time.process_time()
                    step(item)
                    wall.append((time.perf_counter() - started) * 1000.0)
                    cpu.append((time.process_time() - cpu_started) * 1000.0)
    finally:
        outbox.close()
    return samples


@dataclass(frozen=True)
class Plan:
    """One verification as the session runs it (device/session/runner.py)."""

    capture_frames: int = 10  # 5 good frames needed ([session] capture_frames); ~half fail
    liveness_frames: int = 102  # 6.8 s at 15 fps, see describe()
    embed_every: int = 3  # runner.EMBED_EVERY_N_FRAMES
    best_frames: int = 3  # [session] best_frames

    def describe(self) -> str:
        return (
            f"{self.capture_frames} capture frames (track + align + quality; 5 must pass), "
            f"{self.liveness_frames} liveness frames at 15 fps (track, iris while an eye is "
            "measured, + observe; "
            "1.8 s flash phase + 2.5 actions x (1.0 s mean hold + ~1 s to act) = 6.8 s), "
            f"embed every {self.embed_every}rd liveness frame (identity continuity), "
            f"embed of the {self.best_frames} best frames, 2 matches, sign, durable enqueue"
        )


def one_verification(parts: Parts, items: Sequence[Prepared], plan: Plan,
                     outbox_submit: Callable[[], object]) -> None:
    """The work of runner._capture x N, runner._liveness_frame x M, runner._match, submit."""
    a, q = parts.analyzer, parts.quality
    history: list[Any] = []
    best: list[tuple[float, Image]] = []
    a.reset_track()
    for index in range(plan.capture_frames):
        rgb = items[index % len(items)].rgb
        faces = a.track(rgb)
        aligned = None
        if len(faces) == 1:
            points = five_points(faces[0])
            history = [*history[-3:], points]
            aligned = align_face(rgb, points)
        report = assess(rgb, faces, aligned, history, q)
        if aligned is not None:
            best = sorted([*best, (report.score, aligned)], key=lambda c: -c[0])[:3]
    driver = ProbeDriver(LivenessProbe(parts.liveness, np.random.default_rng(11)))
    continuity = []
    for index in range(plan.liveness_frames):
        rgb = items[index % len(items)].rgb
        faces = a.track(rgb, with_iris=driver.needs_eyes())
        face = faces[0] if len(faces) == 1 else None
        embedding = None
        if face is not None and index % plan.embed_every == 0:
            embedding = parts.embedder.embed(align_face(rgb, five_points(face)))
            continuity.append(embedding)
        driver.observe(rgb, face, embedding)
    probes = [parts.embedder.embed(crop) for _, crop in best]
    reference = probes[0] if probes else np.zeros(128, np.float32)
    parts.matcher.match(probes, reference)
    parts.matcher.match(continuity, reference)
    outbox_submit()


def verification(parts: Parts, items: Sequence[Prepared], plan: Plan, repeats: int,
                 outbox_submit: Callable[[], object]) -> dict[str, Any]:
    """Wall and CPU time (ms) of whole verifications, one thread."""
    wall, cpu = [], []
    one_verification(parts, items, Plan(2, 4), outbox_submit)  # warm-up
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        one_verification(parts, items, plan, outbox_submit)
        wall.append((time.perf_counter() - started) * 1000.0)
        cpu.append((time.process_time() - cpu_started) * 1000.0)
    return {"wall": summary(wall), "cpu": summary(cpu), "plan": plan.describe()}


def sustained_fps(parts: Parts, items: Sequence[Prepared], seconds: float) -> dict[str, Any]:
    """Frames per second through the frame loop's track (iris while the probe needs an eye) +
    align + quality + liveness observe()."""
    a, q = parts.analyzer, parts.quality
    driver = ProbeDriver(LivenessProbe(parts.liveness, np.random.default_rng(13)))
    a.reset_track()
    frames, per_frame = 0, []
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= deadline:
            break
        rgb = items[frames % len(items)].rgb
        faces = a.track(rgb, with_iris=driver.needs_eyes())
        face = faces[0] if len(faces) == 1 else None
        aligned = align_face(rgb, five_points(face)) if face is not None else None
        points = [five_points(face)] * 2 if face is not None else []
        assess(rgb, faces, aligned, points, q)
        driver.observe(rgb, face)
        frames += 1
        per_frame.append((time.perf_counter() - t0) * 1000.0)
    elapsed = time.perf_counter() - started
    return {
        "fps": round(frames / elapsed, 1),
        "frames": frames,
        "seconds": round(elapsed, 2),
        "cpu_s": round(time.process_time() - cpu_started, 2),
        "per_frame": summary(per_frame),
    }


def temp_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="faceterm-bench-")
