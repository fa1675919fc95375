"""The elderly behaviour model's pure parts: profiles within the stated ranges, the prompt
codes a person answers, tremor as an exact whole-pixel shift, and the visit report's interval."""

from __future__ import annotations

import numpy as np
import pytest

from device.liveness.elderly import REACTION_S, TURN_DEG, draw_profile, shifted
from device.liveness.elderly_eval import interval, report
from device.liveness.elderly_person import asked_action


def test_profiles_stay_in_the_model_ranges_and_vary() -> None:
    profiles = [draw_profile(np.random.default_rng(seed)) for seed in range(400)]
    assert all(REACTION_S[0] <= p.reaction_s <= REACTION_S[1] for p in profiles)
    assert all(TURN_DEG[0] <= p.turn_deg <= TURN_DEG[1] for p in profiles)
    assert all(p.mirror_confusion == 0.2 and p.tremor_px in (1, 2) for p in profiles)
    assert 0.4 < np.mean([p.helper for p in profiles]) < 0.6
    assert min(p.turn_deg for p in profiles) < 9 and max(p.turn_deg for p in profiles) > 14
    assert draw_profile(np.random.default_rng(7)) == draw_profile(np.random.default_rng(7))


@pytest.mark.parametrize(("code", "action"), [
    ("liveness_turn_left", "turn_left"), ("liveness_turn_right", "turn_right"),
    ("liveness_blink", "blink"), ("liveness_nod", "nod"), ("liveness_face_front", None),
    ("liveness_turn_left_clear", "turn_left"), ("liveness_try_again", None),
    ("liveness_hold_still", None), ("hold_still", None), (None, None),
])  # fmt: skip
def test_a_person_answers_only_action_prompts(code: str | None, action: str | None) -> None:
    assert asked_action(code) == action


def test_tremor_moves_the_whole_frame_by_whole_pixels() -> None:
    rgb = np.random.default_rng(1).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    moved = shifted(rgb, (2, -1))
    np.testing.assert_array_equal(moved[5:-5, 5:-5], rgb[6:-4, 3:-7])
    assert shifted(rgb, (0, 0)) is rgb
    np.testing.assert_array_equal(shifted(rgb, (2, -1)), moved)  # the same bytes every time


def test_the_pass_share_interval_is_exact_and_the_report_counts_visits() -> None:
    assert interval(60, 60) == (pytest.approx(0.9404, abs=1e-4), 1.0)
    low, high = interval(30, 60)
    assert low < 0.5 < high
    rows = [{"passed": i < 3, "attempts": 1 + i % 3, "time_to_pass_s": 20.0 + i if i < 3 else None,
             "decisions": ["pass"] if i < 3 else ["fail", "fail", "refer"],
             "reasons": [[]] if i < 3 else [["liveness_spoof"], ["x"], ["y"]],
             "events": ["1.0s turn_left (confused) 9.0deg"] if i == 3 else [],
             "profile": {"turn_deg": 9.0, "reaction_s": 1.5, "move_rate": 0.7, "blink_rate": 0.5,
                         "helper": False, "tremor_px": 1}, "seed": i, "seconds": 1.0}
            for i in range(4)]  # fmt: skip
    out = report(rows, {}, 1.0)
    assert out["pass_within_visit"]["passed"] == 3 and out["time_to_pass_s"]["median"] == 21.0
    assert out["spoof_records"] == 1 and out["failed_attempts"] == 3
    assert out["behaviours"]["turned_the_wrong_way"]["yes"]["passed"] == 0
