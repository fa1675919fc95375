"""The kiosk page in headless chromium follows a scripted session published through ScreenServer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kiosk_support import text_of, view, wait_text, wait_until
from skimage import data as skdata

from device.camera.base import Frame
from device.ui.server import ScreenServer
from device.ui.settings import UiSettings

pytestmark = pytest.mark.browser

CATALOGUE = {"liveness.blink": ("请眨眨眼", "Please blink"), "quality.too_dark": (
    "光线太暗", "It is too dark")}


@pytest.fixture
def kiosk() -> Iterator[ScreenServer]:
    ui = ScreenServer(UiSettings(port=0, voice=False, heartbeat_s=1.0), catalogue=CATALOGUE)
    ui.start()
    try:
        yield ui
    finally:
        ui.stop()


def _open(browser: Any, ui: ScreenServer) -> None:
    browser.get(ui.url)
    wait_until(lambda: browser.execute_script("return window.kiosk && window.kiosk.online"),
               "the page to connect")


def _shot(browser: Any, artifacts: Path, name: str) -> None:
    path = artifacts / f"{name}.png"
    assert browser.save_screenshot(str(path)), f"screenshot {path} failed"
    assert path.stat().st_size > 5_000


def _font_px(browser: Any, element_id: str) -> float:
    size = browser.execute_script(
        "return getComputedStyle(document.getElementById(arguments[0])).fontSize", element_id)
    return float(str(size).removesuffix("px"))


def test_page_follows_a_session_to_pass(browser: Any, kiosk: ScreenServer, artifacts: Path) -> None:
    _open(browser, kiosk)
    kiosk.publish(view("idle"))
    wait_text(browser, "guide-zh", "请将身份证放在读卡区")
    assert _font_px(browser, "guide-zh") >= 48
    live = browser.find_element("id", "guide-live")
    assert live.get_attribute("aria-live") == "polite"
    _shot(browser, artifacts, "01-idle")

    kiosk.publish(view("identified", "session.identified", "已读取身份证，请正视屏幕",
                       "Card read, please face the screen", progress=0.1))
    kiosk.set_preview(Frame(skdata.astronaut(), sequence=1, timestamp_s=0.0))  # camera frames
    wait_text(browser, "guide-zh", "已读取身份证，请正视屏幕")
    wait_until(lambda: browser.execute_script(
        "const p = document.getElementById('preview');"
        "return !p.hidden && p.complete && p.naturalWidth > 0"), "the live preview")
    _shot(browser, artifacts, "02-identified")

    kiosk.publish(view("guiding", "quality.outside_oval", "请把脸移到框内",
                       "Move your face into the oval", progress=0.25))
    wait_text(browser, "guide-zh", "请把脸移到框内")
    wait_text(browser, "progress-text", "已完成 25%")
    _shot(browser, artifacts, "03-guiding")

    kiosk.publish(view("challenge", "liveness.blink", countdown_s=3, progress=0.5))
    wait_text(browser, "guide-zh", "请眨眨眼")  # text filled in from the catalogue
    wait_text(browser, "countdown-text", "还剩 3 秒")
    _shot(browser, artifacts, "04-challenge")

    kiosk.publish(view("flash", "liveness.flash", "请保持不动", flash_rgb=[255, 40, 40]))
    wait_text(browser, "flash-zh", "请保持不动")
    colour = browser.execute_script(
        "return getComputedStyle(document.getElementById('screen-flash')).backgroundColor")
    assert colour == "rgb(255, 40, 40)"
    _shot(browser, artifacts, "05-flash")

    kiosk.publish(view("matching", "session.matching", "正在比对，请稍候", progress=0.9))
    wait_text(browser, "guide-zh", "正在比对，请稍候")
    _shot(browser, artifacts, "06-matching")

    kiosk.publish(view("decided", "result.pass", result={"decision": "pass", "reasons": []}))
    wait_text(browser, "result-title", "认证成功")
    assert kiosk.preview.jpeg() is None  # the face is dropped from memory when the session ends
    assert "请取回身份证" in text_of(browser, "result-next")
    icon = browser.execute_script(
        "return document.querySelector('#result-icon use').getAttribute('href')")
    assert icon == "#i-ok"  # an icon and words, not only the green background
    assert browser.execute_script("return document.activeElement.id") == "result-title"
    _shot(browser, artifacts, "07-decided-pass")
    assert kiosk.status()["views_invalid"] == 0


def test_refer_and_fail_results(browser: Any, kiosk: ScreenServer, artifacts: Path) -> None:
    _open(browser, kiosk)
    kiosk.publish(view("decided", result={"decision": "refer", "reasons": ["match.low"]}))
    wait_text(browser, "result-title", "请到就近的社保服务窗口办理")
    assert browser.execute_script(
        "return document.querySelector('#result-icon use').getAttribute('href')") == "#i-window"
    _shot(browser, artifacts, "08-decided-refer")

    kiosk.publish(view("decided", result={"decision": "fail", "reasons": ["quality.too_dark"]}))
    wait_text(browser, "result-title", "认证未通过")
    wait_text(browser, "result-reason-list", "光线太暗")
    assert "社保服务窗口" in text_of(browser, "result-next")
    _shot(browser, artifacts, "09-decided-fail")


def test_page_reconnects_after_the_server_restarts(browser: Any, artifacts: Path) -> None:
    settings = UiSettings(port=0, voice=False, heartbeat_s=0.5)
    first = ScreenServer(settings, catalogue={})
    first.start()
    port = first.port
    try:
        _open(browser, first)
        connects = browser.execute_script("return window.kiosk.connects")
        first.publish(view("guiding", zh="请把脸移到框内"))
        wait_text(browser, "guide-zh", "请把脸移到框内")
    finally:
        first.stop()
    wait_until(lambda: browser.execute_script("return !window.kiosk.online"), "offline notice")
    wait_text(browser, "offline-text", "连接中断")
    _shot(browser, artifacts, "10-offline")

    second = ScreenServer(settings.model_copy(update={"port": port}), catalogue={})
    second.start()
    try:
        second.publish(view("matching", zh="正在比对，请稍候"))
        wait_text(browser, "guide-zh", "正在比对，请稍候")
        assert browser.execute_script("return window.kiosk.online")
        assert browser.execute_script("return window.kiosk.connects") >= connects
        assert second.status()["clients"] == 1
    finally:
        second.stop()


def test_small_pi_screen_keeps_text_large_and_inside(
    browser: Any, kiosk: ScreenServer, artifacts: Path
) -> None:
    kiosk.set_preview(Frame(skdata.astronaut(), sequence=1, timestamp_s=0.0))
    browser.set_window_size(800, 480 + 143)  # the official 7" display; headless adds chrome
    try:
        _open(browser, kiosk)
        kiosk.publish(view("challenge", "liveness.blink", countdown_s=5, progress=0.5))
        wait_text(browser, "guide-zh", "请眨眨眼")
        assert _font_px(browser, "guide-zh") >= 48
        overflow = browser.execute_script(
            "const d = document.documentElement; return [d.scrollWidth > d.clientWidth,"
            " document.getElementById('guide-zh').getBoundingClientRect().right > innerWidth]")
        assert overflow == [False, False]
        _shot(browser, artifacts, "14-small-screen-challenge")
    finally:
        browser.set_window_size(1280, 800)
