"""Decision records, match fusion and the message catalogue."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pytest

from device.clock import ClockState
from device.errors import ConfigError
from device.match.matcher import Matcher, resolve_threshold
from device.match.thresholds import DecidedWith
from device.messages import DECISIONS, QUALITY_CODES, catalogue, own_messages
from device.session.record import RECORD_KEYS, Outcome, build_record, personal_data

SUBJECT = "ab" * 32
DECIDED = DecidedWith("sface_fp16@cb32cc1c7868", 0.3505, False)
CLOCK = ClockState(False, None, None)
WHEN = dt.datetime(2026, 11, 25, 8, 30, 1, 123000, tzinfo=dt.UTC)


def test_record_has_exactly_the_contract_keys_and_no_personal_data():
    outcome = Outcome(
        "pass",
        (),
        1,
        SUBJECT,
        DECIDED,
        CLOCK,
        match=0.7123456,
        liveness=0.9,
        quality=0.8,
        quality_summary={"frames": 12},
        models={"embed": "sface_fp16@cb32cc1c7868"},
        timings_ms={"total": 5123.44},
    )
    record = build_record(outcome, "kiosk-7", WHEN)
    assert tuple(record) == RECORD_KEYS
    assert record["schema"] == "faceterm.decision/1"
    assert record["scores"] == {"match": 0.7123, "liveness": 0.9, "quality": 0.8}
    assert record["time_utc"] == "2026-11-25T08:30:01.123Z"
    assert record["decided_with"] == {"model": "sface_fp16@cb32cc1c7868", "threshold": 0.3505,
                                      "override": False}
    assert record["clock"] == {"synced": False, "last_sync_utc": None, "since_sync_s": None}
    text = json.dumps(record)
    assert not re.search(r"[0-9]{17}[0-9Xx]", text)
    assert personal_data("11010519491231002X", "张三") == {
        "id_number": "11010519491231002X",
        "name": "张三",
    }


@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        (Outcome("maybe", (), 1, SUBJECT, DECIDED, CLOCK), "decision"),
        (Outcome("pass", (), 1, "11010519491231002X", DECIDED, CLOCK), "subject"),
    ],
)
def test_record_refuses_bad_input(outcome, error):
    with pytest.raises(ValueError, match=error):
        build_record(outcome, "kiosk-7", WHEN)


def test_nan_scores_become_null():
    record = build_record(
        Outcome("timeout", ("capture_timeout",), 1, SUBJECT, DECIDED, CLOCK,
                match=float("nan")), "d", WHEN
    )
    assert record["scores"]["match"] is None


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.mark.parametrize(
    ("fusion", "scores", "expected"),
    [
        ("mean", [0.9, 0.1, 0.5, 0.2], 1.6 / 3),
        ("max", [0.9, 0.1, 0.5, 0.2], 0.9),
        ("mean", [0.4], 0.4),
    ],
)
def test_fusion_over_top_n(fusion, scores, expected):
    assert Matcher(0.34, top_n=3, fusion=fusion).fuse(scores) == pytest.approx(expected)


def test_match_accepts_at_threshold():
    reference = unit([1.0, 0.0, 0.0])
    probes = [unit([1.0, 0.1, 0.0]), unit([1.0, 1.0, 0.0]), unit([0.0, 1.0, 0.0])]
    result = Matcher(0.5, top_n=2).match(probes, reference)
    assert result.accepted and result.frames == 2
    assert not Matcher(0.9, top_n=2).match(probes, reference).accepted
    assert not Matcher(0.0).match([], reference).accepted


def test_threshold_defaults_to_the_manifest():
    assert resolve_threshold(None, 0.3405) == 0.3405
    assert resolve_threshold(0.4, 0.3405) == 0.4
    assert resolve_threshold(None, 0.3405, 0.01) == pytest.approx(0.3505)
    with pytest.raises(ConfigError, match="match_threshold"):
        resolve_threshold(None, None)


def test_every_code_is_bilingual():
    table = catalogue()
    for code in (*QUALITY_CODES, *DECISIONS, "attempts_exhausted", "match_below_threshold"):
        zh, en = table[code]
        assert re.search(r"[\u4e00-\u9fff]", zh) and en.isascii() and en, code
    assert table["refer"][0] == "请到就近的社保服务窗口办理"
    assert set(own_messages()) <= set(table)
    assert "liveness_blink" in table  # merged from device/liveness/messages.py


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[session]\nbest_frames = 6\ncapture_frames = 5\n", "best_frames"),
        ("[session.quality]\nmin_luma = 210.0\n", "min_luma"),
        ("[session.quality]\nmin_sharpnes = 1.0\n", "unknown key"),
        ('[session]\nfusion = "median"\n', "fusion"),
    ],
)
def test_session_config_is_checked_at_start_up(text, message):
    from device.config import parse

    with pytest.raises(ConfigError, match=message):
        parse(text)
