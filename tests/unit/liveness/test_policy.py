"""The liveness policy as a table: evidence in, outcome and reasons out."""

from __future__ import annotations

import pytest

from device.liveness.flash import FlashResult
from device.liveness.passive import PassiveSummary
from device.liveness.policy import Evidence, Thresholds, decide

T = Thresholds(flash_min_correlation=0.6, flash_min_gain=0.03, flash_min_samples=6,
               antispoof_threshold=0.5)  # fmt: skip
CLEAN = PassiveSummary(0.2, (), 20.0, 0.0, 0.0, 10)
MOIRE = PassiveSummary(1.0, ("passive_moire",), 300.0, 0.0, 0.0, 10)
GOOD_FLASH = FlashResult(0.95, 0.15, 18, 0)
BAD_FLASH = FlashResult(0.1, 0.001, 18, 0)
SHORT_FLASH = FlashResult(0.9, 0.2, 3, 0)


@pytest.mark.parametrize(
    ("evidence", "outcome", "reason"),
    [
        (Evidence("passed", None, None, GOOD_FLASH, CLEAN), "live", "liveness_live"),
        (Evidence("passed", None, None, None, CLEAN), "live", "liveness_live"),
        (Evidence("passed", None, None, BAD_FLASH, CLEAN), "spoof", "flash_not_reflected"),
        (Evidence("passed", None, None, GOOD_FLASH, MOIRE), "spoof", "passive_moire"),
        # Confusion is not an attack: a wrong, mirrored or premature movement is only a doubt.
        (
            Evidence("failed", "challenge_wrong_action", None, GOOD_FLASH, CLEAN),
            "inconclusive",
            "challenge_wrong_action",
        ),
        (
            Evidence("failed", "challenge_too_early", None, None, CLEAN),
            "inconclusive",
            "challenge_too_early",
        ),
        (
            Evidence("failed", "challenge_wrong_action", None, BAD_FLASH, CLEAN),
            "spoof",
            "flash_not_reflected",
        ),
        (
            Evidence("passed", None, "identity_changed", GOOD_FLASH, CLEAN),
            "spoof",
            "identity_changed",
        ),
        (
            Evidence("passed", None, "track_broken", GOOD_FLASH, CLEAN),
            "inconclusive",
            "track_broken",
        ),
        (
            Evidence("timeout", "challenge_timeout", None, GOOD_FLASH, CLEAN),
            "inconclusive",
            "challenge_timeout",
        ),
        (Evidence("passed", None, "face_lost", GOOD_FLASH, CLEAN), "inconclusive", "face_lost"),
        (Evidence("passed", None, None, SHORT_FLASH, CLEAN), "inconclusive", "flash_insufficient"),
        (
            Evidence("passed", None, None, GOOD_FLASH, CLEAN, antispoof_score=0.2),
            "spoof",
            "antispoof_model",
        ),
        (
            Evidence("passed", None, None, GOOD_FLASH, CLEAN, antispoof_score=0.9),
            "live",
            "challenge_passed",
        ),
    ],
)
def test_policy_table(evidence: Evidence, outcome: str, reason: str) -> None:
    got, reasons = decide(evidence, T)
    assert got == outcome
    assert reason in reasons


def test_attack_findings_win_over_doubts() -> None:
    evidence = Evidence("timeout", "challenge_timeout", "face_lost", BAD_FLASH, MOIRE)
    outcome, reasons = decide(evidence, T)
    assert outcome == "spoof"
    assert reasons[:2] == ("flash_not_reflected", "passive_moire")


@pytest.mark.parametrize("reason", ["challenge_wrong_action", "challenge_too_early",
                                    "challenge_timeout", None])  # fmt: skip
def test_an_incomplete_challenge_alone_is_never_a_spoof(reason: str | None) -> None:
    for status in ("failed", "timeout", "running"):
        for flash in (None, GOOD_FLASH, SHORT_FLASH):
            outcome, reasons = decide(Evidence(status, reason, None, flash, CLEAN), T)
            assert outcome == "inconclusive", (status, reason, reasons)
