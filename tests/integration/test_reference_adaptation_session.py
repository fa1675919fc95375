"""`[session] reference_adaptation` through the whole session with the real models: a confident
live pass updates the stored reference (the enrolment kept) and the record says so; with the
setting off nothing in the store changes. LFW stills stand in front of the camera and a
stand-in probe says "live" (a still cannot do the real challenge)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from device.camera.replay import letterbox
from device.cardreader.card import IdCard
from device.liveness.api import LivenessVerdict
from device.match.adapt import AdaptPolicy
from device.match.enrol import enrol_images, read_rgb
from device.match.keys import load_secrets
from device.match.matcher import Matcher, cosine
from device.match.templates import TemplateStore
from device.session.machine import Rules
from device.session.offline import Collector, drive
from device.session.runner import SessionRunner
from device.session.settings import QualitySettings, SessionSettings
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.settings import VisionSettings

REPO = Path(__file__).resolve().parents[2]
LFW = Path(os.environ.get("FACETERM_LFW", REPO.parent / "shared" / "data" / "lfw-dev"))
THRESHOLD = 0.3505
ID = "11010519491231002X"
RULES = Rules(max_attempts=1, capture_timeout_s=5.0, liveness_timeout_s=10.0,
              decided_hold_s=0.0, capture_frames=4, liveness_enabled=True)  # fmt: skip


class LiveAfter:
    """Says "live" after a few frames (the session's liveness seam)."""

    def __init__(self, frames: int = 6) -> None:
        self.frames, self.seen = frames, 0

    def begin(self, now_s: float, plan: object = None) -> None:
        self.seen = 0

    def prompt(self, now_s: float) -> None:
        return None

    def needs_eyes(self, now_s: float) -> bool:
        return False

    def observe(self, frame: object, face: object, embedding: object, now_s: float,
                crowded: bool = False) -> None:  # fmt: skip
        self.seen += 1

    def verdict(self, now_s: float) -> LivenessVerdict | None:
        if self.seen < self.frames:
            return None
        return LivenessVerdict("live", ("liveness_live",), {"liveness": 1.0})


def lfw(name: str) -> np.ndarray:
    if not (LFW / "images").is_dir():
        pytest.skip(f"lfw-dev not found at {LFW} (set FACETERM_LFW)")
    return read_rgb(LFW / "images" / name.rsplit("_", 1)[0] / f"{name}.jpg")


@pytest.fixture(scope="module")
def vision() -> tuple[FaceAnalyzer, Embedder]:
    settings = VisionSettings(models_dir=str(REPO / "models"))
    return FaceAnalyzer.load(settings), Embedder.from_settings(settings)


@pytest.fixture
def store(tmp_path: Path, vision: tuple[FaceAnalyzer, Embedder]) -> TemplateStore:
    analyzer, embedder = vision
    s = TemplateStore(tmp_path / "templates.sqlite3", load_secrets(tmp_path, environ={}))
    s.open()
    images = [lfw("Al_Sharpton_0001"), lfw("Al_Sharpton_0002")]
    enrolled = enrol_images(list(enumerate(images)), analyzer, embedder, QualitySettings())
    assert enrolled.embedding is not None
    s.put(ID, enrolled.embedding, embedder.model_id, "enrol", len(enrolled.used))
    return s


def visit(store: TemplateStore, vision: tuple[FaceAnalyzer, Embedder], face: str,
          adaptation: AdaptPolicy | None) -> dict[str, object]:  # fmt: skip
    analyzer, embedder = vision
    sink = Collector()
    runner = SessionRunner(RULES, QualitySettings(), analyzer, embedder, Matcher(THRESHOLD, 3),
                           store, sink.on_view, sink.on_record, "kiosk-test", liveness=LiveAfter(),
                           adaptation=adaptation, adapted=store)  # fmt: skip
    runner.on_card(IdCard("张三", "1", "01", ID[6:14], "", ID, "", "20200101", "长期"), 0.0)
    frame = np.ascontiguousarray(letterbox(lfw(face), (640, 480)))
    drive(runner, [frame] * 120, 15.0, lambda: bool(sink.records), max_s=20.0)
    (record,) = sink.records
    return record


def rows(store: TemplateStore, path: Path) -> tuple[list[tuple[object, ...]], int]:
    with sqlite3.connect(path) as db:
        enrolment = db.execute("SELECT nonce, sealed FROM templates").fetchall()
        (adapted,) = db.execute("SELECT COUNT(*) FROM adapted").fetchone()
    return enrolment, int(adapted)


def test_a_confident_pass_updates_the_reference_and_keeps_the_enrolment(
    store: TemplateStore, vision: tuple[FaceAnalyzer, Embedder], tmp_path: Path
) -> None:
    policy = AdaptPolicy()
    before = store.get(ID)
    assert before is not None and before.original is None
    enrolment_row, _ = rows(store, tmp_path / "templates.sqlite3")
    record = visit(store, vision, "Al_Sharpton_0003", policy)
    assert record["decision"] == "pass"
    assert record["scores"]["match"] >= THRESHOLD + policy.confident_margin  # type: ignore[index]
    assert record["reference_updated"] is True
    after = store.get(ID)
    assert after is not None and after.original is not None and after.updates == 1
    assert np.array_equal(after.original, before.embedding)  # the enrolment is kept
    moved = cosine(after.embedding, before.embedding)
    assert policy.min_cos_to_original <= moved < 0.99999
    assert rows(store, tmp_path / "templates.sqlite3") == (enrolment_row, 1)
    # the next visit matches against the adapted reference and updates it again
    assert visit(store, vision, "Al_Sharpton_0004", policy)["reference_updated"] is True
    again = store.get(ID)
    assert again is not None and again.updates == 2


def test_with_adaptation_off_nothing_changes(
    store: TemplateStore, vision: tuple[FaceAnalyzer, Embedder], tmp_path: Path
) -> None:
    before = rows(store, tmp_path / "templates.sqlite3")
    record = visit(store, vision, "Al_Sharpton_0003", None)
    assert record["decision"] == "pass" and record["reference_updated"] is False
    assert rows(store, tmp_path / "templates.sqlite3") == before
    after = store.get(ID)
    assert after is not None and after.original is None and after.updates == 0


def test_a_pass_that_is_not_confident_leaves_the_reference(
    store: TemplateStore, vision: tuple[FaceAnalyzer, Embedder], tmp_path: Path
) -> None:
    strict = AdaptPolicy(confident_margin=0.9)  # no real pass is 0.9 above the threshold
    record = visit(store, vision, "Al_Sharpton_0003", strict)
    assert record["decision"] == "pass" and record["reference_updated"] is False
    assert rows(store, tmp_path / "templates.sqlite3")[1] == 0


def test_a_new_enrolment_drops_the_adapted_reference(
    store: TemplateStore, vision: tuple[FaceAnalyzer, Embedder], tmp_path: Path
) -> None:
    assert visit(store, vision, "Al_Sharpton_0003", AdaptPolicy())["reference_updated"] is True
    first = store.get(ID)
    assert first is not None and first.original is not None
    store.put(ID, first.original, first.model, "enrol", 2)
    assert rows(store, tmp_path / "templates.sqlite3")[1] == 0
    assert store.revoke(ID) and store.get(ID) is None


def test_the_setting_is_validated() -> None:
    assert SessionSettings().reference_adaptation is False
    assert SessionSettings.model_validate({"reference_adaptation": True}).reference_adaptation
    with pytest.raises(ValueError, match="reference_adaptation"):
        SessionSettings.model_validate({"reference_adaptation": "yes"})
