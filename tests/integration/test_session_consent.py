"""Consent at a card-mode kiosk, through the real session runner, real models and a real
templates store: no frame reaches the analyser (and no reference is read) before the person
agrees; declining ends in a signed `declined` record with no biometric processing; the next card
is asked again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from joserfc.jwk import OKPKey
from test_session_e2e import RULES, THRESHOLD, card, enrol, lfw, stream

from device.camera.base import Frame
from device.match.keys import load_secrets
from device.match.matcher import Matcher, resolve_threshold
from device.match.templates import TemplateStore
from device.publish import envelope
from device.session.offline import Collector
from device.session.runner import SessionRunner
from device.session.settings import QualitySettings
from device.ui.texts import NOTICE_VERSION
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.settings import VisionSettings

REPO = Path(__file__).resolve().parents[2]
ASKING = RULES.__class__(**{**{f: getattr(RULES, f) for f in RULES.__dataclass_fields__},
                            "kiosk_consent": True, "consent_timeout_s": 60.0})
ENROLMENT = ("Al_Sharpton_0001", "Al_Sharpton_0002")
VISIT = "Al_Sharpton_0003"


class Counting:
    """Wraps a model or store and counts the calls that would process the person's face."""

    def __init__(self, inner: Any, *names: str) -> None:
        self._inner = inner
        self._names = names
        self.calls = dict.fromkeys(names, 0)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in self._names:
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


@pytest.fixture(scope="module")
def vision() -> tuple[FaceAnalyzer, Embedder]:
    settings = VisionSettings(models_dir=str(REPO / "models"))
    return FaceAnalyzer.load(settings), Embedder.from_settings(settings)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TemplateStore]:
    s = TemplateStore(tmp_path / "templates.sqlite3", load_secrets(tmp_path, environ={}))
    s.open()
    yield s


def _kiosk(store: TemplateStore, vision: tuple[FaceAnalyzer, Embedder]) -> tuple[
        SessionRunner, Collector, Counting, Counting, Counting]:
    analyzer, embedder = vision
    counted_analyzer = Counting(analyzer, "analyze", "track")
    counted_embedder = Counting(embedder, "embed")
    counted_store = Counting(store, "get")
    sink = Collector()
    matcher = Matcher(resolve_threshold(THRESHOLD, embedder.threshold), top_n=3)
    runner = SessionRunner(ASKING, QualitySettings(), counted_analyzer, counted_embedder,  # type: ignore[arg-type]
                           matcher, counted_store, sink.on_view, sink.on_record,  # type: ignore[arg-type]
                           "kiosk-test", best_frames=3)
    return runner, sink, counted_analyzer, counted_embedder, counted_store


def _feed(runner: SessionRunner, frames: list[np.ndarray], start_s: float,
          fps: float = 15.0) -> float:
    now = start_s
    for i, rgb in enumerate(frames):
        now = start_s + i / fps
        runner.on_frame(Frame(rgb, sequence=i, timestamp_s=now), now)
        runner.on_tick(now)
    return now


def test_no_frame_reaches_the_analyser_before_consent(
    store: TemplateStore, vision: tuple[FaceAnalyzer, Embedder]
) -> None:
    enrol(store, vision, card().id_number, *(lfw(name) for name in ENROLMENT))
    runner, sink, analyzer, embedder, references = _kiosk(store, vision)
    frames = stream(lfw(VISIT), 90)
    runner.on_card(card(), 0.0)
    now = _feed(runner, frames[:45], 0.1)  # three seconds of a face in front of the camera
    assert runner.state() == "consent" and sink.views[-1]["state"] == "consent"
    assert (analyzer.calls["analyze"], analyzer.calls["track"], embedder.calls["embed"],
            references.calls["get"]) == (0, 0, 0, 0)
    runner.on_consent(True, NOTICE_VERSION, False, now + 0.1)
    assert references.calls["get"] == 1  # the reference is read only now
    _feed(runner, frames, now + 0.2)
    assert analyzer.calls["analyze"] + analyzer.calls["track"] > 0 and embedder.calls["embed"] > 0
    (record,) = sink.records
    assert record["decision"] == "pass"
    assert record["consent"] == {"asked": "kiosk", "accepted": True,
                                 "notice_version": NOTICE_VERSION}
    assert record["assisted"] is False and record["timings_ms"]["consent"] >= 3000.0


def test_declining_is_a_signed_record_without_biometric_processing(
    store: TemplateStore, vision: tuple[FaceAnalyzer, Embedder]
) -> None:
    runner, sink, analyzer, embedder, references = _kiosk(store, vision)
    frames = stream(np.full((250, 250, 3), 128, np.uint8), 30)  # whatever the camera sees
    runner.on_card(card(), 0.0)
    now = _feed(runner, frames, 0.1)
    runner.on_consent(False, NOTICE_VERSION, True, now + 0.1)
    _feed(runner, frames, now + 0.2)
    (record,) = sink.records
    assert (record["decision"], record["reasons"]) == ("declined", ["consent_declined"])
    assert record["scores"] == {"match": None, "liveness": None, "quality": None}
    assert record["quality"] == {"frames": 0, "usable_frames": 0, "issues": {}, "best": {}}
    assert record["assisted"] is True
    assert record["consent"] == {"asked": "kiosk", "accepted": False,
                                 "notice_version": NOTICE_VERSION}
    assert set(record["timings_ms"]) == {"consent", "identified", "total"}
    assert (analyzer.calls["analyze"], analyzer.calls["track"], embedder.calls["embed"],
            references.calls["get"]) == (0, 0, 0, 0)
    device_key = OKPKey.generate_key("Ed25519")
    signer = envelope.Signer("kiosk-test", device_key, OKPKey.generate_key("X25519"))
    claims = envelope.verify(signer.make(record, sink.personal[0], 1).token,
                             lambda kid: device_key)
    schema = (REPO / "docs" / "schemas" / "decision-record.schema.json").read_text()
    jsonschema.Draft202012Validator(json.loads(schema)).validate(claims["record"])
    # the kiosk remembers nothing of that answer: the next card is asked again
    runner.on_tick(now + 30.0)
    runner.on_card(card(), now + 40.0)
    assert runner.state() == "consent" and sink.views[-1]["code"] == "consent_notice"
