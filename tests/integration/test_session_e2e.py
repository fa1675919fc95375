"""End to end through the real parts: sha256-verified models, a real SQLite templates store,
the session runner on virtual time, frames made from still photos (synthetic streams: no face
video exists in any registry package). Liveness is disabled except in the last tests; the
probe has its own tests in the liveness area."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from device.camera.replay import letterbox
from device.cardreader.card import IdCard
from device.liveness.api import LivenessProbe
from device.liveness.settings import LivenessSettings
from device.match.enrol import enrol_images, read_rgb
from device.match.keys import load_secrets
from device.match.matcher import Matcher, resolve_threshold
from device.match.templates import TemplateStore
from device.session.machine import Rules
from device.session.offline import Collector, drive
from device.session.runner import SessionRunner
from device.session.settings import QualitySettings
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.settings import VisionSettings

REPO = Path(__file__).resolve().parents[2]
LFW = Path(os.environ.get("FACETERM_LFW", REPO.parent / "shared" / "data" / "lfw-dev"))
ID = "11010519491231002X"
OTHER_ID = "110108195103150023"
RULES = Rules(
    max_attempts=2,
    identify_timeout_s=3.0,
    capture_timeout_s=5.0,
    liveness_timeout_s=20.0,
    match_timeout_s=2.0,
    decided_hold_s=0.5,
    capture_frames=4,
    liveness_enabled=False,
)


def card(number: str = ID) -> IdCard:
    return IdCard("张三", "1", "01", number[6:14], "", number, "", "20200101", "长期")


def lfw(name: str) -> np.ndarray:
    if not (LFW / "images").is_dir():
        pytest.skip(f"lfw-dev not found at {LFW} (set FACETERM_LFW)")
    return read_rgb(LFW / "images" / name.rsplit("_", 1)[0] / f"{name}.jpg")


def stream(rgb: np.ndarray, frames: int = 200) -> list[np.ndarray]:
    """A 640x480 'camera' stream of one still, with a little sensor noise per frame."""
    base = np.ascontiguousarray(letterbox(rgb, (640, 480)))
    rng = np.random.default_rng(0)
    noisy = [
        np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8) for _ in range(4)
    ]
    return [noisy[i % 4] for i in range(frames)]


@pytest.fixture(scope="module")
def vision():
    settings = VisionSettings(models_dir=str(REPO / "models"))
    return FaceAnalyzer.load(settings), Embedder.from_settings(settings)


@pytest.fixture
def store(tmp_path):
    s = TemplateStore(tmp_path / "templates.sqlite3", load_secrets(tmp_path, environ={}))
    s.open()
    return s


def enrol(store, vision, number, *images):
    analyzer, embedder = vision
    result = enrol_images(list(enumerate(images)), analyzer, embedder, QualitySettings())
    assert result.embedding is not None and not result.refused
    store.put(number, result.embedding, embedder.model_id, "enrol", len(result.used))


def runner_for(store, vision, sink, rules=RULES, liveness=None):
    analyzer, embedder = vision
    matcher = Matcher(resolve_threshold(None, embedder.threshold), top_n=3)
    return SessionRunner(
        rules,
        QualitySettings(),
        analyzer,
        embedder,
        matcher,
        store,
        sink.on_view,
        sink.on_record,
        "kiosk-test",
        liveness=liveness,
        best_frames=3,
    )


def session(store, vision, frames, number=ID, records=1, rules=RULES, liveness=None):
    sink = Collector()
    runner = runner_for(store, vision, sink, rules, liveness)
    runner.on_card(card(number), 0.0)
    drive(runner, frames, 15.0, lambda: len(sink.records) >= records, max_s=60.0)
    return sink


@pytest.mark.lfw
def test_genuine_pair_passes(store, vision):
    enrol(store, vision, ID, lfw("Al_Sharpton_0001"), lfw("Al_Sharpton_0002"))
    sink = session(store, vision, stream(lfw("Al_Sharpton_0003")))
    (record,) = sink.records
    assert record["decision"] == "pass", record
    assert record["scores"]["match"] >= resolve_threshold(None, vision[1].threshold)
    assert record["subject"] == store.subject(ID) and record["attempt"] == 1
    assert record["models"]["embed"] == vision[1].model_id and "detect" in record["models"]
    assert record["quality"]["usable_frames"] >= RULES.capture_frames
    assert ID not in json.dumps(record) and sink.personal == [{"id_number": ID, "name": "张三"}]
    states = [v["state"] for v in sink.views]
    assert (
        states[0] == "identified" and "guiding" in states and states[-2:] == ["matching", "decided"]
    )
    assert sink.views[-1]["result"] == {"decision": "pass", "reasons": []}
    assert sink.views[-1]["zh"] == "认证通过"


@pytest.mark.lfw
def test_impostor_fails_then_is_referred(store, vision):
    enrol(store, vision, ID, lfw("Al_Sharpton_0001"), lfw("Al_Sharpton_0002"))
    sink = session(store, vision, stream(lfw("Bill_Gates_0003")), records=2)
    first, second = sink.records
    assert (first["decision"], first["reasons"], first["attempt"]) == (
        "fail",
        ["match_below_threshold"],
        1,
    )
    assert first["scores"]["match"] < 0.2
    assert (second["decision"], second["attempt"]) == ("refer", 2)
    assert second["reasons"] == ["match_below_threshold", "attempts_exhausted"]
    assert [v["code"] for v in sink.views if v["code"] == "retry"] == ["retry"]
    assert sink.views[-1]["zh"] == "请到就近的社保服务窗口办理"


def test_stream_without_a_face_times_out(store, vision):
    enrol(store, vision, ID, np.ascontiguousarray(data.astronaut()[0:250, 100:350]))
    sink = session(store, vision, stream(data.coffee(), 100))
    (record,) = sink.records
    assert (record["decision"], record["reasons"]) == ("timeout", ["identify_timeout", "no_face"])
    assert record["timings_ms"]["total"] == pytest.approx(3000, abs=100)
    assert record["scores"] == {"match": None, "liveness": None, "quality": None}


def test_astronaut_verifies_against_itself_and_unknown_card_has_no_reference(store, vision):
    face = np.ascontiguousarray(data.astronaut()[0:250, 100:350])
    enrol(store, vision, ID, face)
    brighter = np.clip(face.astype(np.int16) + 12, 0, 255).astype(np.uint8)
    assert session(store, vision, stream(brighter)).records[0]["decision"] == "pass"
    unknown = session(store, vision, stream(brighter), number=OTHER_ID).records[0]
    assert (unknown["decision"], unknown["reasons"]) == ("no_reference", ["no_reference"])


def test_card_removed_mid_capture_cancels(store, vision):
    enrol(store, vision, ID, np.ascontiguousarray(data.astronaut()[0:250, 100:350]))
    sink = Collector()
    runner = runner_for(store, vision, sink)
    runner.on_card(card(), 0.0)
    drive(runner, stream(data.coffee(), 5), 15.0, lambda: False, max_s=1.0)
    runner.on_card_removed(1.0)
    assert [r["decision"] for r in sink.records] == ["cancelled"]
    runner.on_card_removed(1.1)
    runner.on_tick(2.0)
    assert runner.state() == "idle" and len(sink.records) == 1


def test_still_photo_does_not_pass_the_real_liveness_probe(store, vision):
    face = np.ascontiguousarray(data.astronaut()[0:250, 100:350])
    enrol(store, vision, ID, face)
    rules = dataclasses.replace(
        RULES, max_attempts=1, liveness_timeout_s=40.0, liveness_enabled=True
    )
    probe = LivenessProbe(LivenessSettings(antispoof_model=False), np.random.default_rng(3))
    sink = session(store, vision, stream(face, 900), rules=rules, liveness=probe)
    (record,) = sink.records
    assert record["decision"] in ("refer", "timeout"), record
    assert record["reasons"][0].startswith("liveness_")
    print(record["reasons"], record["scores"])
    assert any(v["state"] in ("challenge", "flash") for v in sink.views)
