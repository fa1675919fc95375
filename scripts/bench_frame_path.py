#!/usr/bin/env python3
"""The per-frame path on real footage: `SessionRunner.on_frame` of whole closed-loop sessions,
timed call by call, one thread.

    .venv/bin/python scripts/bench_frame_path.py [--sessions 6] [--seed 20261125] [--json F]

Each session is a segment puppet of the real footage (device/liveness/puppet.py, the sessions of
`faceterm eval liveness --footage`) in front of the production loop (device/liveness/harness.py:
the real SessionRunner, 640x480 at 15 fps, capture through the quality gates, then liveness).
Every `on_frame` call is timed (wall and CPU); the SFace embeddings of the identity-continuity
check (every 3rd liveness frame) are timed apart and reported both ways. Only the APIs that
every version of the package has are used, so the same file times an older tree
(PYTHONPATH=old-tree) for a before/after table. Needs .cache/footage (scripts/fetch_footage.py).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from device.liveness.footage import load_labels  # noqa: E402
from device.liveness.harness import Bench  # noqa: E402
from device.liveness.puppet import SUBJECTS, Footage, Puppet  # noqa: E402
from device.liveness.settings import LivenessSettings  # noqa: E402

LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "footage_labels.json"


class Timings:
    """Per on_frame call: phase, wall ms, CPU ms, and the embeds' wall and CPU ms inside it."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float, float]] = []
        self._embed = [0.0, 0.0]

    def embedder(self, embed: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def timed(crop: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return embed(crop)
            finally:
                self._embed[0] += (time.perf_counter() - started) * 1000.0
                self._embed[1] += (time.process_time() - cpu) * 1000.0
        return timed

    def frames(self, runner: Any) -> None:
        on_frame = runner.on_frame

        def timed(frame: Any, now_s: float) -> Any:
            phase = runner.state()
            self._embed = [0.0, 0.0]
            started, cpu = time.perf_counter(), time.process_time()
            effects = on_frame(frame, now_s)
            wall = (time.perf_counter() - started) * 1000.0
            if phase in ("identified", "guiding", "liveness"):
                self.rows.append((phase, wall, (time.process_time() - cpu) * 1000.0,
                                  *self._embed))  # fmt: skip
            return effects
        runner.on_frame = timed


class TimedBench(Bench):
    timings: Timings

    def _runner(self, probe: Any, reference: Any, sink: Any) -> Any:
        runner = super()._runner(probe, reference, sink)
        self.timings.frames(runner)
        return runner


def _cell(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    return {"median_ms": round(float(np.median(a)), 3), "mean_ms": round(float(a.mean()), 3),
            "p90_ms": round(float(np.percentile(a, 90)), 3), "n": int(a.size)}  # fmt: skip


def summarise(rows: list[tuple[str, float, float, float, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    groups = {"capture": ("identified", "guiding"), "liveness": ("liveness",),
              "all": ("identified", "guiding", "liveness")}  # fmt: skip
    for name, phases in groups.items():
        part = [r for r in rows if r[0] in phases]
        if not part:
            continue
        out[name] = {
            "wall_without_embed": _cell([w - e for _, w, _, e, _ in part]),
            "cpu_without_embed": _cell([c - ec for _, _, c, _, ec in part]),
            "wall_with_embed": _cell([w for _, w, _, _, _ in part]),
            "cpu_with_embed": _cell([c for _, _, c, _, _ in part]),
        }
    return out


def run(footage_dir: Path, sessions: int, seed: int, models: str) -> dict[str, Any]:
    cv2.setNumThreads(1)
    clips = load_labels(LABELS)
    bench = TimedBench.load(models, LivenessSettings(screen_flash=False), threads=1)
    bench.timings = Timings()
    bench.embedder.embed = bench.timings.embedder(bench.embedder.embed)  # type: ignore[method-assign]
    footage = {s.name: Footage(s, footage_dir, bench.analyzer) for s in SUBJECTS}
    outcomes = []
    started = time.perf_counter()
    for session in range(sessions):
        rng = np.random.default_rng(seed + session)
        subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
        bench.liveness = LivenessSettings.model_validate(
            {"actions": list(subject.actions()), "screen_flash": False})
        scene = Puppet(footage[subject.name], clips[subject.clip].fps, rng)
        result = bench.run(scene, seed + session, footage[subject.name].frame(subject.enrol_frame))
        outcomes.append(result.verdict.outcome if result.verdict else result.decision)
    report = summarise(bench.timings.rows)
    report.update(sessions=sessions, seed=seed, outcomes=outcomes,
                  seconds=round(time.perf_counter() - started, 1), load1=os.getloadavg()[0])
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", type=Path, default=Path(".cache/footage"))
    parser.add_argument("--models", default="models")
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run(args.footage, args.sessions, args.seed, args.models)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
