"""The [liveness] section: defaults valid, bad values refused by name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from device.liveness.settings import LivenessSettings


def test_defaults_are_valid() -> None:
    s = LivenessSettings()
    assert s.screen_flash and 2 <= s.actions_min <= s.actions_max


@pytest.mark.parametrize(
    "bad",
    [
        {"actions_min": 3, "actions_max": 2},
        {"actions": ["nod", "nod"]},
        {"actions": ["wink", "nod"]},
        {"flash_min_correlation": 1.5},
        {"unknown_key": 1},
    ],
)
def test_bad_values_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LivenessSettings.model_validate(bad)
