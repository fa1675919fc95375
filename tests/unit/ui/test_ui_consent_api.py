"""The kiosk server's consent and language answers over real HTTP: taken only while a consent
screen is shown and for the notice the kiosk shows, refused from a foreign origin; the chosen
language goes into every view until the next person's idle screen."""

from __future__ import annotations

import http.client
import json
import queue
from collections.abc import Iterator
from typing import Any

import pytest

from device.events import ConsentAnswered
from device.ui.server import ScreenServer
from device.ui.settings import UiSettings
from device.ui.texts import NOTICE_VERSION
from device.ui.views import make_view


@pytest.fixture
def kiosk() -> Iterator[tuple[ScreenServer, queue.Queue[ConsentAnswered]]]:
    received: queue.Queue[ConsentAnswered] = queue.Queue()
    ui = ScreenServer(UiSettings(port=0, voice=False, region="440106"), catalogue={},
                      on_consent=received.put)
    ui.start()
    try:
        yield ui, received
    finally:
        ui.stop()


def _post(ui: ScreenServer, path: str, payload: Any, **headers: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=5)
    try:
        conn.request("POST", path, body=json.dumps(payload).encode(),
                     headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


ANSWER = {"accepted": True, "notice_version": NOTICE_VERSION, "assisted": True}


def test_consent_is_taken_only_while_asked_and_for_the_notice_shown(kiosk: Any) -> None:
    ui, received = kiosk
    assert _post(ui, "/api/consent", ANSWER) == (409, {"error": "not_asked"})
    ui.publish(make_view("consent", "consent_notice", "是否同意进行人脸识别认证？"))
    stale = {**ANSWER, "notice_version": "2020-01-01.1"}
    assert _post(ui, "/api/consent", stale) == (409, {"error": "stale_notice"})
    assert _post(ui, "/api/consent", ANSWER, Origin="http://evil.example")[0] == 403
    for bad, error in (({**ANSWER, "accepted": "yes"}, "bad_accepted"),
                       ({"accepted": True, "notice_version": NOTICE_VERSION}, "bad_assisted"),
                       ({**ANSWER, "extra": 1}, "bad_extra")):
        assert _post(ui, "/api/consent", bad) == (400, {"error": error})
    assert received.empty()
    assert _post(ui, "/api/consent", ANSWER, Origin=ui.url.rstrip("/")) == (
        202, {"ok": True, "accepted": True})
    assert received.get(timeout=1) == ConsentAnswered(True, NOTICE_VERSION, True)
    assert (ui.status()["consent_answers"], ui.status()["consent_refused"]) == (1, 6)


def test_worker_mode_takes_no_kiosk_consent() -> None:
    received: queue.Queue[ConsentAnswered] = queue.Queue()
    ui = ScreenServer(UiSettings(port=0, voice=False, worker_mode=True), catalogue={},
                      on_consent=received.put)
    ui.start()
    try:
        ui.publish(make_view("consent", "consent_notice"))
        assert _post(ui, "/api/consent", ANSWER) == (503, {"error": "not_accepted"})
    finally:
        ui.stop()


def test_the_language_lasts_one_session(kiosk: Any) -> None:
    ui, _received = kiosk
    assert ui.language == "yue"  # Guangzhou (440106): Cantonese first
    ui.publish(make_view("idle", "insert_card"))
    assert ui.hub.latest()["language"] == "yue"  # type: ignore[index]
    assert _post(ui, "/api/language", {"language": "cmn"}) == (200, {"ok": True,
                                                                     "language": "cmn"})
    assert ui.hub.latest()["language"] == "cmn"  # type: ignore[index]  # said again
    assert _post(ui, "/api/language", {"language": "hak"}) == (400, {"error": "bad_language"})
    assert _post(ui, "/api/language", {"language": "cmn"}, Origin="http://x.example")[0] == 403
    ui.publish(make_view("consent", "consent_notice"))
    ui.publish(make_view("decided", "declined", result={"decision": "declined",
                                                        "reasons": ["consent_declined"]}))
    assert ui.hub.latest()["language"] == "cmn"  # type: ignore[index]
    ui.publish(make_view("idle", "insert_card"))  # the next person starts in the default
    assert ui.hub.latest()["language"] == "yue"  # type: ignore[index]
