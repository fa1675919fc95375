"""Whole sessions on real footage through the production loop (device/liveness/harness.py:
the SessionRunner at 640x480, 15 fps, iris, one face, embeddings): segment puppets of the real
footage pass, and a planar print of the same face turned on cue is refused with planar_motion
(it answers every head movement, so without the 3-D check it would pass)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.liveness.footage import load_labels
from device.liveness.harness import Bench
from device.liveness.planar_print import PlanarPrint
from device.liveness.puppet import SUBJECTS, Footage, Puppet
from device.liveness.settings import LivenessSettings
from tests.support.footage import LABELS, footage_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> Bench:
    return Bench.load(ROOT / "models", LivenessSettings())


@pytest.fixture(scope="module")
def woman(bench: Bench) -> Footage:
    return Footage(SUBJECTS[0], footage_dir(), bench.analyzer)


@pytest.mark.parametrize(("seed", "flash"), [(4, False), (7, True)])
def test_a_puppet_of_real_footage_passes_the_whole_session(
    bench: Bench, woman: Footage, seed: int, flash: bool
) -> None:
    subject = woman.subject
    fps = load_labels(LABELS)[subject.clip].fps
    bench.liveness = LivenessSettings.model_validate(
        {"actions": list(subject.actions()), "screen_flash": flash}
    )
    puppet = Puppet(woman, fps, np.random.default_rng(seed))
    result = bench.run(puppet, seed, woman.frame(subject.enrol_frame))
    assert result.verdict is not None, result.reasons
    assert result.verdict.outcome == "live", result.verdict
    assert result.decision == "pass" and result.liveness_frames > 30
    assert len(puppet.played) == len(result.actions)
    assert result.verdict.scores["planar_residual"] > bench.liveness.planar_max_residual


def test_a_planar_print_turned_on_cue_is_refused_as_planar(bench: Bench, woman: Footage) -> None:
    photo = woman.frame(270)
    results = {}
    for planar in (True, False):
        bench.liveness = LivenessSettings(
            actions=["turn_left", "turn_right", "nod"], screen_flash=False, planar_motion=planar
        )
        # Seed 9 draws two turns (device/liveness/draw.py): the print reads too small a pitch
        # to answer a nod, so a challenge with a nod would not test the 3-D check.
        results[planar] = bench.run(PlanarPrint(photo, np.random.default_rng(4)), 9, photo)
    checked, unchecked = results[True].verdict, results[False].verdict
    assert checked is not None and unchecked is not None
    assert unchecked.outcome == "live"  # every movement answered: only the 3-D check tells
    assert checked.outcome == "spoof" and "planar_motion" in checked.reasons
    assert checked.scores["planar_residual"] < bench.liveness.planar_max_residual
