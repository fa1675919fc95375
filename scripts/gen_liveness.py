#!/usr/bin/env python3
"""Generate SYNTHETIC liveness sessions into a small cache folder (default .cache/liveness/, never
committed), one compressed .npz per session: the frames the production loop saw (N x 480 x 640 x
3 RGB, device/liveness/harness.py), their times, the probe's actions and the outcome. For looking
at what `faceterm eval liveness` feeds the probe; the evaluation runs its sessions in memory.

    .venv/bin/python scripts/gen_liveness.py --sessions 3 --kinds bona_fide screen
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from device.commands.liveness_cmd import DEFAULT_LFW, EVAL_ACTIONS  # noqa: E402
from device.liveness.evaluate import KINDS, Chunk, _load_bench, _scene, outcome_of  # noqa: E402
from device.liveness.harness import Bench  # noqa: E402
from device.liveness.scenes import FaceSource, Person  # noqa: E402
from device.liveness.settings import LivenessSettings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2, help="sessions per kind")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--out", default=str(ROOT / ".cache" / "liveness"))
    parser.add_argument("--models", default=str(ROOT / "models"))
    parser.add_argument("--lfw", default=str(ROOT / DEFAULT_LFW))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = LivenessSettings(actions=list(EVAL_ACTIONS))
    lfw = args.lfw if Path(args.lfw).is_dir() else None
    chunk = Chunk((), args.models, lfw, 20, settings.model_dump())
    bench, sources, rejected = _load_bench(chunk)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for kind in args.kinds:
        for index in range(args.sessions):
            rng = np.random.default_rng(args.seed * 1000 + index)
            print(_one(bench, sources, kind, rng, out / f"{kind}_{index:03d}.npz"))
    print(f"stills the simulator could not animate: {rejected}")
    return 0


def _one(
    bench: Bench, sources: list[FaceSource], kind: str, rng: np.random.Generator, path: Path
) -> str:
    """Run and store one session ("replay" stores the bona fide recording a replay would play)."""
    source = sources[int(rng.integers(len(sources)))]
    scene = Person(source, rng) if kind == "replay" else _scene(kind, source, rng)
    seed = int(rng.integers(1 << 31))
    result = bench.run(scene, seed, source.rgb, record_frames=True)
    verdict = result.verdict
    reasons = verdict.reasons if verdict else result.reasons
    meta = {"kind": kind, "source": source.name, "actions": result.actions,
            "outcome": outcome_of(result), "reasons": reasons, "synthetic": True}  # fmt: skip
    np.savez_compressed(
        path,
        frames=np.stack([f for _, f in result.frames]),
        times_s=np.array([t for t, _ in result.frames]),
        meta=json.dumps(meta),
    )
    return f"{path}: {outcome_of(result)} {', '.join(reasons)}"


if __name__ == "__main__":
    raise SystemExit(main())
