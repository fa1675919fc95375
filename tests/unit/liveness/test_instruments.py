"""The physics of the SYNTHETIC attack instruments (device/liveness/instruments.py, displays.py)
and the APCER bound of attack_eval.py."""

from __future__ import annotations

import numpy as np
import pytest

from device.liveness.attack_eval import clopper_pearson_upper, summary
from device.liveness.displays import DEVICES, Display, emitted
from device.liveness.instruments import (
    Light,
    PrintPose,
    encode,
    flash_share,
    lens_mtf,
    linear,
    lit_print,
    lit_room,
)


def test_the_flash_falls_off_with_the_square_of_the_distance() -> None:
    assert flash_share(0.1, 0.35) == pytest.approx(0.1)
    assert flash_share(0.1, 0.175) == pytest.approx(0.4)
    assert flash_share(0.1, 2.0) == pytest.approx(0.1 * (0.35 / 2.0) ** 2)


def test_a_print_reflects_the_flash_evenly_and_the_room_hardly() -> None:
    sheet = np.stack([np.full((4, 4), v, np.float32) for v in (0.2, 0.5, 0.8)], axis=2)
    light = Light((1.0, 0.0, 0.0), 0.1)
    dark = Light(None, 0.1)
    lit = lit_print(sheet, light, PrintPose(distance_m=0.25)) / lit_print(sheet, dark,
                                                                     PrintPose(distance_m=0.25))
    assert np.allclose(lit[..., 0], lit[0, 0, 0])  # one factor for every ink tone: even
    assert lit[0, 0, 0] == pytest.approx(1 + flash_share(0.1, 0.25), rel=1e-5)
    assert np.allclose(lit[..., 1:], 1.0)
    room = lit_room(sheet, light) / sheet
    assert room[0, 0, 0] == pytest.approx(1 + flash_share(0.1, 2.0), rel=1e-5)
    turned = lit_print(sheet, light, PrintPose(yaw_deg=60.0, distance_m=0.25))
    assert turned[0, 0, 0] < lit_print(sheet, light, PrintPose(distance_m=0.25))[0, 0, 0]


def test_the_lens_removes_patterns_finer_than_a_pixel() -> None:
    assert lens_mtf(0.0) == 1.0
    assert lens_mtf(0.1) > 0.8 > lens_mtf(0.5) > lens_mtf(1.0) and lens_mtf(2.0) < 1e-6


def test_gamma_round_trip() -> None:
    rgb = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    assert np.abs(encode(linear(rgb)).astype(int) - rgb).max() <= 1


def _display(ppi: float) -> Display:
    return Display(DEVICES[2], ppi, 0.0, (1.0, 1.0, 1.0), 1.0, 0.04, (0.5, 1.0), 1.0, 0.0, 1.0)


def test_a_screen_emits_whatever_the_flash_and_shows_its_grid_only_when_coarse() -> None:
    grey = np.full((64, 64, 3), 128, np.uint8)
    fine = emitted(_display(264.0), grey, 0.25, 0.0)  # 0.23 camera px per screen pixel
    assert np.allclose(fine, fine.mean(), rtol=1e-4)
    coarse = emitted(_display(264.0), grey, 0.01, 0.0)  # a screen 1 cm from the lens
    assert coarse.std() > 0.1 * coarse.mean()


def test_apcer_upper_bound_is_clopper_pearson() -> None:
    assert clopper_pearson_upper(0, 200) == pytest.approx(1 - 0.025 ** (1 / 200), abs=1e-6)
    assert clopper_pearson_upper(0, 15) == pytest.approx(0.218, abs=1e-3)
    assert clopper_pearson_upper(13, 15) == pytest.approx(0.983, abs=2e-3)
    assert clopper_pearson_upper(15, 15) == 1.0


def test_a_session_is_refused_unless_it_passes() -> None:
    rows = [
        {"decision": "pass", "outcome": "live", "reasons": ["liveness_live"]},
        {"decision": "refer", "outcome": "spoof", "reasons": ["planar_motion"]},
        {"decision": "refer", "outcome": "inconclusive", "reasons": ["challenge_timeout"]},
        {"decision": "refer", "outcome": "live", "reasons": ["liveness_live"]},  # match failed
    ]
    result = summary(rows)
    assert (result["passed"], result["refused_spoof"], result["refused_inconclusive"]) == (1, 1, 2)
    assert result["apcer"] == 0.25 and result["spoof_reasons"] == {"planar_motion": 1}
