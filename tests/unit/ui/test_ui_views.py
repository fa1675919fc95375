"""UI views against the contract in docs/CONTRIBUTING.md, and the result screens' words."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from device.ui.settings import UiSettings
from device.ui.texts import RESULTS, all_spoken_texts, result_screen, spoken_result
from device.ui.views import ViewError, prepare

CATALOGUE = {
    "liveness.blink": ("请眨眨眼", "Please blink"),
    "quality.too_dark": ("光线太暗", "Too dark"),
}


def _view(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "state": "guiding",
        "code": "",
        "zh": "",
        "en": "",
        "countdown_s": None,
        "flash_rgb": None,
        "progress": None,
        "result": None,
    }
    base.update(fields)
    return base


def test_code_only_view_takes_its_words_from_the_catalogue() -> None:
    out = prepare(_view(state="challenge", code="liveness.blink", countdown_s=3), CATALOGUE)
    assert (out["zh"], out["en"], out["countdown_s"]) == ("请眨眨眼", "Please blink", 3.0)


def test_numpy_numbers_are_accepted_as_plain_json_numbers() -> None:
    rgb = (np.int64(255), np.uint8(0), 10)
    out = prepare(_view(state="flash", flash_rgb=rgb, countdown_s=np.float32(1.5)), {})
    assert out["flash_rgb"] == [255, 0, 10] and out["countdown_s"] == 1.5
    assert all(type(c) is int for c in out["flash_rgb"])


def test_idle_without_words_asks_for_the_card_and_input_is_not_changed() -> None:
    view = {"state": "idle"}
    out = prepare(view, {})
    assert out["zh"] == "请将身份证放在读卡区"
    assert view == {"state": "idle"}
    assert set(out) >= {"state", "code", "zh", "en", "countdown_s", "flash_rgb", "progress"}


@pytest.mark.parametrize(
    ("decision", "title", "next_part"),
    [
        ("pass", "认证成功", "请取回身份证"),
        ("refer", "请到就近的社保服务窗口办理", "人工核实"),
        ("fail", "认证未通过", "请到就近的社保服务窗口办理"),
        ("timeout", "认证超时", "重新插卡"),
        ("no_reference", "暂无您的认证照片", "请到就近的社保服务窗口办理"),
        ("cancelled", "认证已取消", "重新插入身份证"),
    ],
)
def test_result_screens(decision: str, title: str, next_part: str) -> None:
    out = prepare(_view(state="decided", result={"decision": decision, "reasons": []}), {})
    assert out["screen"]["title_zh"] == title
    assert next_part in out["screen"]["next_zh"]
    assert out["screen"]["icon"] in {"ok", "warn", "window", "clock", "stop"}


def test_fail_lists_known_reasons_and_speaks_them() -> None:
    screen = result_screen("fail", ["quality.too_dark", "unknown.code"], CATALOGUE)
    assert [r["zh"] for r in screen["reasons"]] == ["光线太暗"]
    assert spoken_result(screen).startswith("认证未通过。光线太暗。请按提示")


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"state": "asleep"}, "state"),
        ({"countdown_s": -1}, "countdown_s"),
        ({"countdown_s": float("nan")}, "countdown_s"),
        ({"progress": 1.5}, "progress"),
        ({"state": "flash"}, "flash_rgb"),
        ({"state": "flash", "flash_rgb": [256, 0, 0]}, "flash_rgb"),
        ({"state": "flash", "flash_rgb": [True, 0, 0]}, "flash_rgb"),
        ({"state": "decided"}, "result"),
        ({"state": "decided", "result": {"decision": "pass", "reasons": "x"}}, "reasons"),
        ({"zh": 5}, "zh"),
        ({"colour": "red"}, "unknown"),
    ],
)
def test_views_that_break_the_contract_are_refused(fields: dict[str, Any], key: str) -> None:
    with pytest.raises(ViewError, match=key):
        prepare(_view(**fields), {})


def test_spoken_texts_cover_catalogue_and_results() -> None:
    texts = all_spoken_texts(CATALOGUE)
    assert texts["liveness.blink"] == "请眨眨眼"
    assert {f"result.{d}" for d in RESULTS} <= set(texts)
    assert "认证成功" in texts["result.pass"]


def test_settings_refuse_a_non_loopback_host_and_bad_ranges() -> None:
    with pytest.raises(ValidationError, match="loopback"):
        UiSettings(host="0.0.0.0")
    with pytest.raises(ValidationError):
        UiSettings(volume=300)
    with pytest.raises(ValidationError):
        UiSettings.model_validate({"voice_speed": 3})
