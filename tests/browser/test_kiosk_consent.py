"""The card-mode kiosk in headless chromium: the language button on the first screen, the
consent screen read aloud in the chosen language, and both answers, from the page's buttons
through the kiosk server to the real session runner's record and back to the result screen.

The session runner stands in for the core loop on the test thread (answers from the page are
queued as the daemon's bus queues them); its analyser counts calls, and must see none before the
person agrees. Screenshots go to test-artifacts/ui/ and docs/screenshots/.
"""

from __future__ import annotations

import queue
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kiosk_support import text_of, wait_text, wait_until
from PIL import Image
from skimage import data as skdata

from device.camera.base import Frame
from device.events import ConsentAnswered
from device.match.keys import subject_hash
from device.match.matcher import Matcher
from device.match.templates import Reference
from device.session import machine as m
from device.session.decisions import show_view
from device.session.runner import SessionRunner
from device.session.settings import QualitySettings
from device.ui.server import ScreenServer
from device.ui.settings import UiSettings
from device.ui.texts import NOTICE_VERSION, load_catalogue, spoken_notice
from device.ui.voice import Voice, synthesize

pytestmark = pytest.mark.browser

DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ID_NUMBER = "11010519491231002X"
SETTINGS = UiSettings(port=0, heartbeat_s=1.0, voice_languages=["cmn", "yue"],
                      voice_repeat_s=0.0)


class Card:
    id_number = ID_NUMBER
    name = "张三"


class NoFaces:
    """An analyser that finds nobody and counts every frame it is asked to look at."""

    def __init__(self) -> None:
        self.model_ids = {"detect": "face_detection_short_range@3bc182eb9f33"}
        self.calls = 0

    def analyze(self, rgb: Any, with_iris: bool = False, max_faces: int = 2) -> list[Any]:
        self.calls += 1
        return []


class Embedder:
    model_id = "sface_fp16@cb32cc1c7868"

    def embed(self, aligned_rgb_112: Any) -> Any:
        raise AssertionError("nothing is embedded in these sessions")


class References:
    def __init__(self) -> None:
        self.reads = 0

    def get(self, id_number: str) -> Reference | None:
        self.reads += 1
        return None  # no enrolment: an accepted session ends in no_reference at once

    def subject(self, id_number: str) -> str:
        return subject_hash(b"s" * 32, id_number)


class Recorder:
    def __init__(self) -> None:
        self.played: list[bytes] = []

    def __call__(self, wav: bytes) -> None:
        self.played.append(wav)


class Kiosk:
    """The page's server, its voice, and a session runner driven on the test thread."""

    def __init__(self) -> None:
        self.answers: queue.Queue[ConsentAnswered] = queue.Queue()
        self.recorder = Recorder()
        self.ui = ScreenServer(SETTINGS, catalogue=load_catalogue(),
                               voice=Voice(SETTINGS, play=self.recorder),
                               on_consent=self.answers.put)
        self.analyzer = NoFaces()
        self.references = References()
        self.records: list[dict[str, Any]] = []
        self.runner = SessionRunner(
            m.Rules(liveness_enabled=False, kiosk_consent=True, decided_hold_s=60.0),
            QualitySettings(), self.analyzer, Embedder(), Matcher(0.35),  # type: ignore[arg-type]
            self.references, self.ui.publish,  # type: ignore[arg-type]
            lambda record, personal: self.records.append(record), "kiosk-test")
        self.frame = Frame(np.ascontiguousarray(skdata.astronaut()), 0, 0.0)

    def card_and_frames(self, now_s: float, frames: int = 20) -> None:
        self.runner.on_card(Card(), now_s)
        for i in range(frames):  # the camera keeps running while the notice is read
            self.runner.on_frame(self.frame, now_s + i / 15.0)

    def answer(self, now_s: float) -> ConsentAnswered:
        answer = self.answers.get(timeout=8)
        self.runner.on_consent(answer.accepted, answer.notice_version, answer.assisted, now_s)
        return answer


@pytest.fixture
def kiosk() -> Iterator[Kiosk]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/install-deps.sh)")
    made = Kiosk()
    made.ui.start()
    try:
        yield made
    finally:
        made.ui.stop()


def _idle() -> dict[str, Any]:
    return show_view(m.Show("idle", "insert_card"), load_catalogue())


def _open(browser: Any, kiosk: Kiosk) -> None:
    browser.get(kiosk.ui.url)
    wait_until(lambda: browser.execute_script("return window.kiosk && window.kiosk.online"),
               "the page to connect")


def _shot(browser: Any, artifacts: Path, name: str) -> None:
    path = artifacts / f"{name}.png"
    assert browser.save_screenshot(str(path)), f"screenshot {path} failed"
    assert path.stat().st_size > 5_000
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)  # committed: a 64-colour palette keeps it small
    with Image.open(path) as shot:
        shot.convert("RGB").quantize(64).save(DOCS_SHOTS / f"{name}.png", optimize=True)


def _pressed(browser: Any, element_id: str) -> str:
    return str(browser.execute_script(
        "return document.getElementById(arguments[0]).getAttribute('aria-pressed')", element_id))


def _visible_buttons(browser: Any, section: str) -> list[tuple[str, int, int]]:
    return [tuple(row) for row in browser.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' button')]"
        ".filter(b => b.offsetParent !== null)"
        ".map(b => [b.textContent.trim(), b.offsetWidth, b.offsetHeight])", section)]


def _played(kiosk: Kiosk, wav: bytes) -> bool:
    return wav in kiosk.recorder.played


def _click(browser: Any, element_id: str) -> None:
    browser.find_element("id", element_id).click()


def test_language_choice_then_consent_read_aloud_and_accepted(
    browser: Any, kiosk: Kiosk, artifacts: Path
) -> None:
    _open(browser, kiosk)
    kiosk.ui.publish(_idle())
    wait_text(browser, "guide-zh", "请将身份证放在读卡区")
    wait_until(lambda: _pressed(browser, "lang-cmn") == "true", "Mandarin chosen by default")
    assert text_of(browser, "lang-yue") == "粤语"
    for label, width, height in _visible_buttons(browser, "#lang-bar"):
        assert width >= 120 and height >= 64, f"language button {label!r} is {width}x{height}"
    _click(browser, "lang-yue")
    wait_until(lambda: _pressed(browser, "lang-yue") == "true", "Cantonese pressed")
    assert kiosk.ui.language == "yue" and _pressed(browser, "lang-cmn") == "false"
    _shot(browser, artifacts, "21-language-choice")

    kiosk.card_and_frames(1.0)
    wait_text(browser, "c-title", "是否同意进行人脸识别认证")
    assert "社保服务窗口人工认证" in text_of(browser, "c-body")  # the non-face alternative
    assert "预约工作人员上门认证" in text_of(browser, "c-body")
    assert text_of(browser, "c-decline") == "不同意，改用其他方式认证"
    sizes = _visible_buttons(browser, "#screen-consent")
    assert len(sizes) == 3
    for label, width, height in sizes:
        assert width >= 300 and height >= 80, f"button {label!r} is {width}x{height}"
    assert _pressed(browser, "lang-yue") == "true"  # the choice lasts into the session
    notice = synthesize(spoken_notice("yue"), SETTINGS, "yue")
    wait_until(lambda: _played(kiosk, notice), "the notice read aloud in Cantonese", 20.0)
    assert kiosk.analyzer.calls == 0 and kiosk.references.reads == 0  # nothing before consent
    _click(browser, "c-helper")
    wait_until(lambda: _pressed(browser, "c-helper") == "true", "the helper button pressed")
    wait_text(browser, "c-helper-text", "已选：有人陪同")
    _shot(browser, artifacts, "22-consent")
    _click(browser, "c-agree")
    answer = kiosk.answer(3.0)
    assert answer == ConsentAnswered(True, NOTICE_VERSION, True)
    (record,) = kiosk.records  # no reference enrolled: no_reference, after the consent
    assert record["decision"] == "no_reference" and kiosk.references.reads == 1
    assert record["consent"] == {"asked": "kiosk", "accepted": True,
                                 "notice_version": NOTICE_VERSION}
    assert record["assisted"] is True
    wait_text(browser, "result-title", "暂无您的认证照片")


def test_declining_on_the_consent_screen(browser: Any, kiosk: Kiosk, artifacts: Path) -> None:
    _open(browser, kiosk)
    kiosk.ui.publish(_idle())
    wait_until(lambda: _pressed(browser, "lang-cmn") == "true", "Mandarin chosen by default")
    kiosk.card_and_frames(1.0)
    wait_text(browser, "c-title", "是否同意进行人脸识别认证")
    assert _pressed(browser, "c-helper") == "false"  # nothing kept from an earlier person
    notice = synthesize(spoken_notice("cmn"), SETTINGS, "cmn")
    wait_until(lambda: _played(kiosk, notice), "the notice read aloud in Mandarin", 20.0)
    _click(browser, "c-decline")
    answer = kiosk.answer(4.0)
    assert answer == ConsentAnswered(False, NOTICE_VERSION, False)
    (record,) = kiosk.records
    assert (record["decision"], record["reasons"]) == ("declined", ["consent_declined"])
    assert record["scores"] == {"match": None, "liveness": None, "quality": None}
    assert kiosk.analyzer.calls == 0 and kiosk.references.reads == 0
    wait_text(browser, "result-title", "已记录您不使用人脸识别")
    wait_text(browser, "result-next", "社保服务窗口人工认证")
    assert browser.execute_script(
        "return document.getElementById('screen-result').dataset.decision") == "declined"
    _shot(browser, artifacts, "23-declined")
    # the next card is asked again, with the helper button reset
    kiosk.runner.on_tick(70.0)
    kiosk.card_and_frames(80.0, frames=2)
    wait_text(browser, "c-title", "是否同意进行人脸识别认证")
    assert kiosk.analyzer.calls == 0
    wait_until(lambda: not browser.find_element("id", "c-agree").get_attribute("disabled"),
               "the buttons enabled again")

