"""`faceterm eval elderly`: simulated elderly people, each on one visit of up to 3 attempts.

Each person (device/liveness/elderly.py: profile from the seed; the subject, woman or her
mirror image, drawn too) stands at the kiosk through the production session on virtual time
(harness.Bench.run with attempts: the kiosk's own retry, with its hold between attempts). The
report: the share passing within the visit (exact Clopper-Pearson 95 % interval), time to pass
(virtual seconds from the card read to the pass record), attempts used, every attempt's
decision and reasons, and the pass share split by each behaviour, to show what fails.

The challenge draws from what the footage can answer from the resting face (blink, nod and the
subject's one turn direction, as puppet_eval.py); the session and liveness settings are the
tree's defaults, with [session] pace when given (a key of the elderly-first session).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device.liveness.elderly import Moves, draw_profile
from device.liveness.elderly_person import ElderlyPerson
from device.liveness.footage import load_labels
from device.liveness.harness import Bench
from device.liveness.memo import MemoAnalyzer, MemoEmbedder
from device.liveness.puppet import SUBJECTS, Footage, check
from device.liveness.settings import LivenessSettings
from device.session.settings import SessionSettings

ATTEMPTS = 3
VISIT_MAX_S = 300.0


@dataclass(frozen=True, slots=True)
class VisitPlan:
    seeds: tuple[int, ...]
    session: dict[str, Any]
    models_dir: str
    footage_dir: str
    labels: str
    progress: str | None = None  # every visit appended here as a JSON line when it ends


def run_plan(plan: VisitPlan) -> list[dict[str, Any]]:
    """The plan's people in this process (models and footage loaded once)."""
    clips = load_labels(Path(plan.labels))
    for subject in SUBJECTS:
        check(subject, clips[subject.clip])
    bench = Bench.load(plan.models_dir, LivenessSettings(),
                       SessionSettings.model_validate(plan.session))  # fmt: skip
    bench.analyzer = MemoAnalyzer(bench.analyzer, size=40000)
    bench.embedder = MemoEmbedder(bench.embedder)
    moves = {s.name: Moves(Footage(s, Path(plan.footage_dir), bench.analyzer), bench.analyzer,
                           clips[s.clip].fps) for s in SUBJECTS}  # fmt: skip
    rows = []
    for seed in plan.seeds:
        rows.append(visit(bench, moves, seed))
        if plan.progress:
            with open(plan.progress, "a", encoding="utf-8") as out:
                out.write(json.dumps(rows[-1]) + "\n")
    return rows


def visit(bench: Bench, moves: dict[str, Moves], seed: int) -> dict[str, Any]:
    """One person's visit: up to ATTEMPTS attempts, as the kiosk runs them."""
    rng = np.random.default_rng(seed)
    subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
    profile = draw_profile(rng)
    bench.liveness = LivenessSettings.model_validate({"actions": list(subject.actions())})
    person = ElderlyPerson(moves[subject.name], profile, rng)
    started = time.perf_counter()
    result = bench.run(person, seed, moves[subject.name].footage.frame(subject.enrol_frame),
                       max_s=VISIT_MAX_S, attempts=ATTEMPTS)  # fmt: skip
    decisions = [str(r.get("decision")) for r in result.records]
    passed = "pass" in decisions
    return {
        "seed": seed, "subject": subject.name, "profile": profile.as_dict(),
        "passed": passed, "attempts": len(decisions),
        "time_to_pass_s": round(result.ended_s, 1) if passed else None,
        "decisions": decisions,
        "reasons": [list(r.get("reasons", ())) for r in result.records],
        "liveness": [{"outcome": v.outcome, "reasons": list(v.reasons),
                      "steps": {k: s for k, s in v.scores.items() if k.startswith("step")}}
                     for v in result.verdicts],
        "events": person.events,
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip


def evaluate(people: int, session: dict[str, Any], models_dir: str, footage_dir: str,
             labels: str, workers: int = 2, seed: int = 20261203,
             progress: str | None = None) -> dict[str, Any]:  # fmt: skip
    """`people` visits over `workers` processes; the JSON report."""
    plans = [VisitPlan(tuple(range(seed + w, seed + people, workers)), session, models_dir,
                  footage_dir, labels, progress) for w in range(workers)]  # fmt: skip
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rows = sorted((r for part in pool.map(run_plan, plans) for r in part),
                      key=lambda r: int(r["seed"]))  # fmt: skip
    return report(rows, session, time.perf_counter() - started)


def interval(k: int, n: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) 95 % interval of a share k / n."""
    from scipy.stats import beta

    low = float(beta.ppf(0.025, k, n - k + 1)) if k > 0 else 0.0
    high = float(beta.ppf(0.975, k + 1, n - k)) if k < n else 1.0
    return round(low, 4), round(high, 4)


def _share(rows: list[dict[str, Any]]) -> dict[str, Any]:
    k, n = sum(r["passed"] for r in rows), len(rows)
    return {"people": n, "passed": k, "share": round(k / n, 4) if n else None,
            "ci95": interval(k, n) if n else None}  # fmt: skip


def behaviours(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The pass share split by each behaviour of the profile (what fails, and for whom)."""
    def split(name: str, test: Any) -> dict[str, Any]:
        return {"yes": _share([r for r in rows if test(r)]),
                "no": _share([r for r in rows if not test(r)])}  # fmt: skip

    def did(word: str) -> Any:
        return lambda r: any(word in e for e in r["events"])

    return {
        "turn_below_12deg": split("turn", lambda r: r["profile"]["turn_deg"] < 12.0),
        "reaction_over_2s": split("reaction", lambda r: r["profile"]["reaction_s"] > 2.0),
        "move_rate_below_0.8": split("move", lambda r: r["profile"]["move_rate"] < 0.8),
        "blink_rate_below_0.6": split("blink", lambda r: r["profile"]["blink_rate"] < 0.6),
        "helper_present": split("helper", lambda r: r["profile"]["helper"]),
        "tremor_2px": split("tremor", lambda r: r["profile"]["tremor_px"] == 2),
        "turned_the_wrong_way": split("confused", did("confused")),
        "glanced_at_helper": split("glance", did("glance")),
    }


def from_progress(path: Path, session: dict[str, Any]) -> dict[str, Any]:
    """The report of the visits a (possibly stopped) run appended to its progress file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = sorted((json.loads(line) for line in lines if line.strip()), key=lambda r: r["seed"])
    return report(rows, session, sum(r["seconds"] for r in rows))


def report(rows: list[dict[str, Any]], session: dict[str, Any], seconds: float) -> dict[str, Any]:
    times = sorted(r["time_to_pass_s"] for r in rows if r["passed"])
    attempts = [list(zip(r["decisions"], r["reasons"], strict=True)) for r in rows]
    failed = [reasons for visit_ in attempts for decision, reasons in visit_ if decision != "pass"]
    return {
        "model": "SYNTHETIC behaviour on real footage (device/liveness/elderly.py)",
        "session": session, "attempts_per_visit": ATTEMPTS,
        "pass_within_visit": _share(rows),
        "time_to_pass_s": {"median": float(np.median(times)) if times else None,
                           "p90": float(np.quantile(times, 0.9)) if times else None,
                           "max": times[-1] if times else None},
        "attempts_used_when_passed": dict(sorted(Counter(
            r["attempts"] for r in rows if r["passed"]).items())),
        "spoof_records": sum("liveness_spoof" in rs for v in attempts for _, rs in v),
        "failed_attempts": len(failed),
        "failed_attempt_reasons": dict(Counter(x for rs in failed for x in rs).most_common()),
        "behaviours": behaviours(rows),
        "runtime_s": round(seconds, 1),
        "visits": rows,
    }  # fmt: skip
