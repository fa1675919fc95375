"""Reference adaptation: only confident passes move the reference, and never beyond the bound."""

from __future__ import annotations

import numpy as np
import pytest

from device.match.adapt import AdaptPolicy, PassEvidence, adapt, drift, eligible

POLICY = AdaptPolicy(weight=0.1, confident_margin=0.15, min_cos_to_original=0.95)


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _evidence(**changes: object) -> PassEvidence:
    base = {"decision": "pass", "match_score": 0.7, "original_score": 0.6, "threshold": 0.35,
            "live": True, "quality_ok": True}
    base.update(changes)
    return PassEvidence(**base)  # type: ignore[arg-type]


def test_a_confident_live_pass_is_eligible() -> None:
    assert eligible(_evidence(), POLICY)


@pytest.mark.parametrize("change", [
    {"decision": "fail"}, {"live": False}, {"quality_ok": False},
    {"match_score": 0.45},  # passes, but not by the confident margin
    {"original_score": 0.30},  # no longer matches the enrolment photo
    {"match_score": float("nan")},
])
def test_anything_short_of_a_confident_pass_is_not_eligible(change: dict[str, object]) -> None:
    assert not eligible(_evidence(**change), POLICY)


def test_weight_zero_disables_adaptation() -> None:
    assert not eligible(_evidence(), AdaptPolicy(weight=0.0))


def test_adaptation_moves_the_reference_towards_the_new_face() -> None:
    original, probe = _unit(1), _unit(2)
    adapted = adapt(original, original, probe, POLICY)
    assert float(adapted @ probe) > float(original @ probe)
    assert abs(float(np.linalg.norm(adapted)) - 1.0) < 1e-5


def test_no_sequence_of_absorptions_drags_the_reference_past_the_bound() -> None:
    original, intruder = _unit(3), _unit(4)
    current = original
    for _ in range(200):
        current = adapt(original, current, intruder, POLICY)
    assert drift(original, current) >= POLICY.min_cos_to_original - 1e-5
    # without the bound the reference would have converged on the intruder
    assert float(current @ intruder) < 0.5


@pytest.mark.parametrize("bad", [{"weight": 0.9}, {"min_cos_to_original": 0.2},
                                 {"confident_margin": -0.1}])
def test_absurd_policies_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        AdaptPolicy(**bad)
