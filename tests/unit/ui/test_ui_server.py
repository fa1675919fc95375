"""The kiosk server over real HTTP on a free loopback port: page, SSE, preview, worker API."""

from __future__ import annotations

import http.client
import json
import queue
import re
import time
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest

from device.camera.base import Frame
from device.events import WorkerInput
from device.ui.server import ScreenServer
from device.ui.settings import UiSettings
from device.ui.texts import NOTICE_VERSION

VALID_ID = "11010519491231002X"


@pytest.fixture
def kiosk() -> Iterator[tuple[ScreenServer, queue.Queue[WorkerInput]]]:
    received: queue.Queue[WorkerInput] = queue.Queue()
    settings = UiSettings(port=0, voice=False, worker_mode=True, heartbeat_s=0.3,
                          client_queue_size=4, max_clients=2, preview_max_width_px=320)
    ui = ScreenServer(settings, on_worker_input=received.put, catalogue={})
    ui.start()
    try:
        yield ui, received
    finally:
        ui.stop()


def _request(ui: ScreenServer, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _post(ui: ScreenServer, payload: Any, **headers: str) -> tuple[int, dict[str, Any]]:
    body = json.dumps(payload).encode()
    status, _h, data = _request(ui, "POST", "/api/worker", body, {
        "Content-Type": "application/json", **headers})
    return status, json.loads(data)


def test_page_is_served_with_its_config_and_a_strict_policy(kiosk: Any) -> None:
    ui, _ = kiosk
    status, headers, body = _request(ui, "GET", "/")
    page = body.decode()
    assert status == 200 and "养老金资格认证" in page
    assert '"worker_mode": true' in page and "<!--KIOSK_CONFIG-->" not in page
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page)  # nothing from elsewhere
    for name in ("kiosk.css", "kiosk.js", "worker.js"):
        assert _request(ui, "GET", f"/static/{name}")[0] == 200
    assert _request(ui, "GET", "/static/../server.py")[0] == 404
    assert _request(ui, "GET", "/", headers={"Host": "evil.example:80"})[0] == 421


def test_event_stream_sends_latest_view_then_heartbeats(kiosk: Any) -> None:
    ui, _ = kiosk
    assert ui.publish({"state": "guiding", "zh": "请把脸移到框内"})
    conn = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=5)
    conn.request("GET", "/events")
    response = conn.getresponse()
    assert response.getheader("Content-Type", "").startswith("text/event-stream")
    lines = [response.fp.readline() for _ in range(12)]
    text = b"".join(lines).decode()
    assert "retry: 1000" in text and "event: view" in text and "请把脸移到框内" in text
    assert ": heartbeat" in text and "event: ping" in text
    ui.publish({"state": "matching", "zh": "正在比对，请稍候"})
    later = b"".join(response.fp.readline() for _ in range(8)).decode()
    assert "正在比对" in later
    conn.close()


def test_too_many_streams_are_refused(kiosk: Any) -> None:
    ui, _ = kiosk
    conns = []
    for _ in range(2):
        conn = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=5)
        conn.request("GET", "/events")
        assert conn.getresponse().status == 200
        conns.append(conn)
    deadline = time.monotonic() + 3
    while ui.status()["clients"] < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _request(ui, "GET", "/events")[0] == 503
    for conn in conns:
        conn.close()


def test_preview_is_the_latest_frame_as_jpeg_in_memory(kiosk: Any) -> None:
    ui, _ = kiosk
    assert _request(ui, "GET", "/preview.jpg")[0] == 204
    rgb = np.zeros((480, 640, 3), np.uint8)
    rgb[:, :, 0] = 200  # red in RGB
    ui.set_preview(Frame(rgb, sequence=1, timestamp_s=0.0))
    status, headers, body = _request(ui, "GET", "/preview.jpg")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert headers["Cache-Control"] == "no-store"
    bgr = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert bgr.shape == (240, 320, 3)
    assert bgr[..., 2].mean() > 150 and bgr[..., 0].mean() < 40  # still red: RGB kept right
    _request(ui, "GET", "/preview.jpg")
    assert ui.status()["preview_encoded"] == 1  # one frame, encoded once
    ui.set_preview(None)
    assert _request(ui, "GET", "/preview.jpg")[0] == 204


def test_worker_input_reaches_the_callback(kiosk: Any) -> None:
    ui, received = kiosk
    status, body = _post(ui, {"id_number": VALID_ID.lower(), "operator_id": "W01",
                              "consent": True}, Origin=ui.url.rstrip("/"))
    assert (status, body) == (202, {"ok": True, "consent": True})
    assert received.get(timeout=1) == WorkerInput(VALID_ID, "W01", True, NOTICE_VERSION)


@pytest.mark.parametrize(("payload", "error"), [
    ({"id_number": "110105194912310021", "operator_id": "W01", "consent": True},
     "bad_id_number"),
    ({"id_number": "11010519491331002X", "operator_id": "W01", "consent": True},
     "bad_id_number"),
    ({"id_number": VALID_ID, "operator_id": "W 01", "consent": True}, "bad_operator_id"),
    ({"id_number": VALID_ID, "operator_id": "W01", "consent": "yes"}, "bad_consent"),
    ({"id_number": VALID_ID, "operator_id": "W01"}, "bad_consent"),
    ({"id_number": VALID_ID, "operator_id": "W01", "consent": True, "x": 1}, "bad_x"),
])
def test_bad_worker_forms_are_refused(kiosk: Any, payload: Any, error: str) -> None:
    ui, received = kiosk
    assert _post(ui, payload) == (400, {"error": error})
    assert received.empty()


def test_worker_api_guards(kiosk: Any) -> None:
    ui, received = kiosk
    form = {"id_number": VALID_ID, "operator_id": "W01", "consent": False}
    assert _post(ui, form, Origin="http://evil.example")[0] == 403
    status, _h, _b = _request(ui, "POST", "/api/worker", b"x" * 2000,
                              {"Content-Type": "application/json"})
    assert status == 413
    status, _h, _b = _request(ui, "POST", "/api/worker", b"{}", {"Content-Type": "text/plain"})
    assert status == 415
    assert received.empty()
    assert ui.status()["worker_rejected"] >= 1


def test_worker_input_without_worker_mode_or_a_full_queue_is_503() -> None:
    def refuse(event: WorkerInput) -> None:
        raise queue.Full

    ui = ScreenServer(UiSettings(port=0, voice=False, worker_mode=True), on_worker_input=refuse,
                 catalogue={})
    ui.start()
    try:
        form = {"id_number": VALID_ID, "operator_id": "W01", "consent": True}
        assert _post(ui, form)[0] == 503
    finally:
        ui.stop()
    plain = ScreenServer(UiSettings(port=0, voice=False), on_worker_input=print, catalogue={})
    plain.start()
    try:
        assert _post(plain, {"id_number": VALID_ID, "operator_id": "W01",
                             "consent": True})[0] == 503
    finally:
        plain.stop()


def test_invalid_views_are_counted_not_raised(kiosk: Any) -> None:
    ui, _ = kiosk
    assert ui.publish({"state": "nonsense"}) is False
    assert ui.status()["views_invalid"] == 1
    assert ui.status()["views_published"] == 0


def test_stop_ends_open_streams_quickly(kiosk: Any) -> None:
    ui, _ = kiosk
    conn = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=5)
    conn.request("GET", "/events")
    response = conn.getresponse()
    started = time.monotonic()
    ui.stop()
    assert time.monotonic() - started < 2.0
    assert response.read() is not None  # the stream ends instead of hanging
    assert ui.status()["listening"] is False


def test_a_stalled_page_never_slows_publish(kiosk: Any) -> None:
    ui, _ = kiosk
    conn = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=5)
    conn.request("GET", "/events")
    conn.getresponse()  # and then never read again
    deadline = time.monotonic() + 3
    while ui.status()["clients"] < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    big = "请把脸移到框内" * 200
    started = time.monotonic()
    for n in range(2000):
        ui.publish({"state": "guiding", "code": f"c{n}", "zh": big})
    assert time.monotonic() - started < 2.0
    assert ui.status()["views_dropped"] > 0
    conn.close()
