"""Attack evaluation of the liveness probe on SYNTHETIC sessions, in ISO/IEC 30107-3 terms.

Each session runs the real face analyzer (detector + face mesh) on generated 320x240 frames and
the real LivenessProbe, closed loop: the bona fide person reacts to the probe's own prompts.
APCER per attack type = attacks accepted as live / attacks; BPCER = bona fide sessions not
accepted as live / bona fide sessions (a per-attempt figure; the session may retry).
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from device.camera.base import Frame
from device.errors import ConfigError, ModelError
from device.liveness.api import LivenessProbe, LivenessVerdict
from device.liveness.challenge import action_levels, baseline_of
from device.liveness.measures import FaceMeasures, box_iou, measure
from device.liveness.messages import action_prompt
from device.liveness.scenes import (
    ACTION_POSES,
    CutoutAttack,
    FaceSource,
    Person,
    PhotoAttack,
    Replay,
    Scene,
    ScreenAttack,
)
from device.liveness.settings import LivenessSettings
from device.liveness.synth import render_pose
from device.vision.align import align_face, five_points
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.settings import VisionSettings
from device.vision.types import FaceObservation, Image

KINDS = ("bona_fide", "photo", "screen", "replay", "cutout")
FPS = 10.0
MAX_SESSION_S = 25.0
EMBED_EVERY = 6
SCREEN_MARGIN = 1.15
CAVEAT = (
    "These numbers come from SYNTHETIC sessions (still images warped by their own face mesh, "
    "simulated flash, screens and prints); captures from a real camera, real screens and real "
    "prints are still needed before anyone trusts them."
)


def load_sources(analyzer: FaceAnalyzer, lfw_dir: Path | None, limit: int) -> list[FaceSource]:
    """skimage's astronaut plus up to `limit` LFW faces, as 320x240 frames with their meshes."""
    from skimage import data

    astronaut = np.asarray(data.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]
    stills = [("astronaut", _resize(astronaut[0:300, 60:460]))]
    if lfw_dir is not None and lfw_dir.is_dir():
        for path in sorted(lfw_dir.glob("*/*_0001.jpg"))[:limit]:
            bgr = cv2.imread(str(path))
            if bgr is not None:
                rgb = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)[31:219]
                stills.append((path.parent.name, _resize(rgb)))
    sources = []
    for name, rgb in stills:
        faces = analyzer.analyze(rgb)
        face = faces[0] if faces else None
        if face and face.mesh is not None and face.pose and abs(face.pose.yaw_deg) < 12:
            sources.append(FaceSource(name, np.ascontiguousarray(rgb), face.mesh.points))
    return sources


def _resize(rgb: Image) -> Image:
    return np.asarray(cv2.resize(rgb, (320, 240), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def screen_source(
    analyzer: FaceAnalyzer, source: FaceSource, settings: LivenessSettings
) -> str | None:
    """Why the simulator cannot animate this still (None when it can): every action the eval
    asks for must read at SCREEN_MARGIN times its threshold when rendered at full strength.
    A simulator check, not a detector check; rejected stills are listed in the report."""
    base = _measures(analyzer, source.rgb)
    if base is None:
        return "no_mesh"
    for action in settings.actions:
        rgb, _ = render_pose(source.rgb, source.warper, ACTION_POSES[action_prompt(action)])
        seen = _measures(analyzer, rgb)
        if seen is None:
            return f"{action}:no_mesh"
        level = action_levels(seen, baseline_of([base]), settings)[action]
        if level < SCREEN_MARGIN:
            return f"{action}:{level:.2f}"
    return None


def _measures(analyzer: FaceAnalyzer, rgb: Image) -> FaceMeasures | None:
    faces = analyzer.analyze(rgb)
    return measure(rgb, faces[0]) if faces else None


@dataclass
class Runner:
    analyzer: FaceAnalyzer
    embedder: Embedder | None
    settings: LivenessSettings

    def run(
        self,
        scene: Scene,
        rng: np.random.Generator,
        probe: LivenessProbe | None = None,
        until_s: float = MAX_SESSION_S,
    ) -> tuple[LivenessVerdict, list[tuple[float, Image]]]:
        """One closed-loop session; returns the verdict and the frames shown."""
        probe = probe or LivenessProbe(self.settings, rng)
        probe.begin(0.0)
        frames: list[tuple[float, Image]] = []
        face: FaceObservation | None = None
        step = 0
        while step / FPS <= until_s:
            now = step / FPS
            rgb = scene.frame(probe.prompt(now), now)
            frames.append((now, rgb))
            face = tracked_face(self.analyzer.analyze(rgb), face)
            embedding = None
            if face is not None and self.embedder is not None and step % EMBED_EVERY == 0:
                embedding = self.embedder.embed(align_face(rgb, five_points(face)))
            probe.observe(Frame(rgb, step, now), face, embedding, now)
            verdict = probe.verdict(now)
            if verdict is not None:
                return verdict, frames
            step += 1
        final = probe.verdict(1e9)
        assert final is not None
        return final, frames


@dataclass(frozen=True, slots=True)
class Chunk:
    """Sessions for one worker process: (kind, seed) pairs and what every session needs."""

    sessions: tuple[tuple[str, int], ...]
    models_dir: str
    lfw_dir: str | None
    max_sources: int
    settings: dict[str, Any]


def tracked_face(
    faces: list[FaceObservation], previous: FaceObservation | None
) -> FaceObservation | None:
    """The face that continues the track (largest overlap with the last one), else the first;
    None without a mesh. A second person in the background must not take the track over."""
    meshed = [f for f in faces if f.mesh is not None]
    if not meshed:
        return None
    if previous is None:
        return meshed[0]
    last = previous.detection.box
    return max(meshed, key=lambda f: box_iou(f.detection.box, last))


def _scene(kind: str, source: FaceSource, rng: np.random.Generator) -> Scene:
    if kind == "bona_fide":
        return Person(source, rng)
    if kind == "photo":
        return PhotoAttack(source, rng, tremor=bool(rng.integers(2)))
    if kind == "screen":
        return ScreenAttack(source, rng)
    return CutoutAttack(source, rng)


def _replay(runner: Runner, source: FaceSource, rng: np.random.Generator) -> LivenessVerdict:
    """Record a bona fide session, then inject it into a probe whose challenge differs."""
    recorder = LivenessProbe(runner.settings, rng)
    _, frames = runner.run(Person(source, rng), rng, probe=recorder)
    seed = int(rng.integers(1 << 31))
    while True:
        trial = LivenessProbe(runner.settings, np.random.default_rng(seed))
        trial.begin(0.0)
        if trial.actions != recorder.actions:
            break
        seed += 1
    probe = LivenessProbe(runner.settings, np.random.default_rng(seed))
    replay = Replay(frames)
    verdict, _ = runner.run(replay, rng, probe=probe, until_s=replay.duration_s)
    return verdict


def _load_runner(chunk: Chunk) -> tuple[Runner, list[FaceSource], dict[str, str]]:
    vision = VisionSettings(models_dir=chunk.models_dir, num_threads=1)
    analyzer = FaceAnalyzer.load(vision)
    try:
        embedder: Embedder | None = Embedder.from_settings(vision)
    except ModelError:
        embedder = None
    settings = LivenessSettings.model_validate(chunk.settings)
    runner = Runner(analyzer, embedder, settings)
    lfw = Path(chunk.lfw_dir) if chunk.lfw_dir else None
    usable, rejected = [], {}
    for source in load_sources(analyzer, lfw, chunk.max_sources):
        reason = screen_source(analyzer, source, settings)
        if reason is None:
            usable.append(source)
        else:
            rejected[source.name] = reason
    return runner, usable, rejected


def run_chunk(chunk: Chunk) -> dict[str, Any]:
    """Run one chunk of sessions in this process (it loads its own models once)."""
    runner, sources, rejected = _load_runner(chunk)
    if not sources:
        raise ConfigError(f"no face still the simulator can animate (rejected: {rejected})")
    rows = []
    for kind, seed in chunk.sessions:
        rng = np.random.default_rng(seed)
        source = sources[int(rng.integers(len(sources)))]
        started = time.perf_counter()
        if kind == "replay":
            verdict = _replay(runner, source, rng)
        else:
            verdict, _ = runner.run(_scene(kind, source, rng), rng)
        rows.append(
            {
                "kind": kind,
                "source": source.name,
                "outcome": verdict.outcome,
                "reasons": list(verdict.reasons),
                "scores": verdict.scores,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    return {
        "rows": rows,
        "sources": [s.name for s in sources],
        "rejected": rejected,
        "embeddings": runner.embedder is not None,
    }


def evaluate(
    sessions_per_kind: int,
    models_dir: str,
    lfw_dir: str | None,
    settings: LivenessSettings,
    workers: int = 2,
    seed: int = 20261125,
    max_sources: int = 60,
) -> dict[str, Any]:
    """Run every kind `sessions_per_kind` times over `workers` processes; the JSON report."""
    plan = [
        (kind, seed + 1000 * k + i)
        for k, kind in enumerate(KINDS)
        for i in range(sessions_per_kind)
    ]
    dump = settings.model_dump()
    chunks = [
        Chunk(tuple(plan[w::workers]), models_dir, lfw_dir, max_sources, dump)
        for w in range(workers)
    ]
    started = time.perf_counter()
    if workers == 1:
        parts = [run_chunk(chunks[0])]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(run_chunk, chunks))
    result = report(
        [row for part in parts for row in part["rows"]], time.perf_counter() - started, settings
    )
    result["sources"] = {"used": parts[0]["sources"], "rejected_by_simulator": parts[0]["rejected"]}
    result["embedding_continuity"] = parts[0]["embeddings"]
    return result


def report(
    rows: list[dict[str, Any]], seconds: float, settings: LivenessSettings
) -> dict[str, Any]:
    """ISO/IEC 30107-3 style figures from per-session rows."""
    by_kind: dict[str, list[dict[str, Any]]] = {
        k: [r for r in rows if r["kind"] == k] for k in KINDS
    }
    counts = {
        k: {"sessions": len(v), **Counter(r["outcome"] for r in v)} for k, v in by_kind.items()
    }
    apcer = {
        k: _rate(v, lambda r: r["outcome"] == "live")
        for k, v in by_kind.items()
        if k != "bona_fide"
    }
    reasons = {k: dict(Counter(c for r in v for c in r["reasons"])) for k, v in by_kind.items()}
    return {
        "standard": "ISO/IEC 30107-3 terms (APCER per attack type, BPCER), per attempt",
        "caveat": CAVEAT,
        "apcer": apcer,
        "bpcer": _rate(by_kind["bona_fide"], lambda r: r["outcome"] != "live"),
        "counts": counts,
        "reasons": reasons,
        "screen_flash": settings.screen_flash,
        "runtime_s": round(seconds, 1),
        "sessions": rows,
    }


def _rate(rows: list[dict[str, Any]], hit: Any) -> float | None:
    return round(sum(1 for r in rows if hit(r)) / len(rows), 4) if rows else None
