"""BPCER of the liveness probe on SYNTHETIC bona fide sessions of many faces (LFW stills warped
by their own mesh), in ISO/IEC 30107-3 terms.

Every session runs through the production frame loop (device/liveness/harness.py: the real
SessionRunner at 640x480, 15 fps, iris, exactly one face, embeddings at the session's cadence);
the scenes are generated 320x240 stills scaled to the camera size, closed loop: the person
reacts to the prompts on screen. BPCER = sessions not accepted as live / sessions (per
attempt). Attacks are no longer drawn here: the scenes of this simulator were the detectors'
own assumptions run backwards. APCER comes from attack instruments rendered from physics over
real footage (device/liveness/attack_eval.py, `faceterm eval liveness --footage DIR --attacks`).
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

from device.errors import ConfigError
from device.extras import eval_extra
from device.liveness.challenge import action_levels, baseline_of
from device.liveness.harness import Bench, SessionResult
from device.liveness.measures import FaceMeasures, measure
from device.liveness.messages import action_prompt
from device.liveness.scenes import ACTION_POSES, FaceSource, Person
from device.liveness.settings import LivenessSettings
from device.liveness.synth import render_pose
from device.vision.analyzer import FaceAnalyzer
from device.vision.types import Image

KINDS = ("bona_fide",)
SCREEN_MARGIN = 1.15
CAVEAT = (
    "These numbers come from SYNTHETIC sessions (still images warped by their own face mesh, "
    "simulated flash); captures of real people in front of a real camera are still needed "
    "before anyone trusts them."
)


def load_sources(analyzer: FaceAnalyzer, lfw_dir: Path | None, limit: int) -> list[FaceSource]:
    """skimage's astronaut plus up to `limit` LFW faces, as 320x240 frames with their meshes."""
    try:
        from skimage import data
    except ImportError as exc:
        raise eval_extra("synthetic liveness sessions", exc) from exc

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


@dataclass(frozen=True, slots=True)
class Chunk:
    """Sessions for one worker process: (kind, seed) pairs and what every session needs."""

    sessions: tuple[tuple[str, int], ...]
    models_dir: str
    lfw_dir: str | None
    max_sources: int
    settings: dict[str, Any]


def _load_bench(chunk: Chunk) -> tuple[Bench, list[FaceSource], dict[str, str]]:
    settings = LivenessSettings.model_validate(chunk.settings)
    bench = Bench.load(chunk.models_dir, settings)
    lfw = Path(chunk.lfw_dir) if chunk.lfw_dir else None
    usable, rejected = [], {}
    for source in load_sources(bench.analyzer, lfw, chunk.max_sources):
        reason = screen_source(bench.analyzer, source, settings)
        if reason is None:
            usable.append(source)
        else:
            rejected[source.name] = reason
    return bench, usable, rejected


def outcome_of(result: SessionResult) -> str:
    """The liveness outcome; `no_liveness_<decision>` when the session ended before it."""
    return result.verdict.outcome if result.verdict else f"no_liveness_{result.decision}"


def run_chunk(chunk: Chunk) -> dict[str, Any]:
    """Run one chunk of sessions in this process (it loads its own models once)."""
    bench, sources, rejected = _load_bench(chunk)
    if not sources:
        raise ConfigError(f"no face still the simulator can animate (rejected: {rejected})")
    rows = []
    for kind, seed in chunk.sessions:
        rng = np.random.default_rng(seed)
        source = sources[int(rng.integers(len(sources)))]
        started = time.perf_counter()
        result = bench.run(Person(source, rng), seed, source.rgb)
        verdict = result.verdict
        rows.append(
            {
                "kind": kind,
                "source": source.name,
                "outcome": outcome_of(result),
                "decision": result.decision,
                "reasons": list(verdict.reasons if verdict else result.reasons),
                "scores": verdict.scores if verdict else {},
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    return {"rows": rows, "sources": [s.name for s in sources], "rejected": rejected,
            "embeddings": True}  # fmt: skip


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
    reasons = {k: dict(Counter(c for r in v for c in r["reasons"])) for k, v in by_kind.items()}
    return {
        "standard": "ISO/IEC 30107-3 BPCER, per attempt, bona fide presentations only",
        "caveat": CAVEAT,
        "attacks": "faceterm eval liveness --footage DIR --attacks (attack_eval.py)",
        "bpcer": _rate(by_kind["bona_fide"], lambda r: r["outcome"] != "live"),
        "counts": counts,
        "reasons": reasons,
        "screen_flash": settings.screen_flash,
        "runtime_s": round(seconds, 1),
        "sessions": rows,
    }


def _rate(rows: list[dict[str, Any]], hit: Any) -> float | None:
    return round(sum(1 for r in rows if hit(r)) / len(rows), 4) if rows else None
