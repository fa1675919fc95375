"""Worker mode is operable by keyboard alone: operator id, ID number, consent or the alternative."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kiosk_support import text_of, view, wait_text, wait_until
from selenium.webdriver.common.keys import Keys

from device.events import WorkerInput
from device.ui.server import ScreenServer
from device.ui.settings import UiSettings
from device.ui.texts import NOTICE_VERSION

pytestmark = pytest.mark.browser

VALID_ID = "11010519491231002X"


@pytest.fixture
def worker_kiosk() -> Iterator[tuple[ScreenServer, queue.Queue[WorkerInput]]]:
    received: queue.Queue[WorkerInput] = queue.Queue()
    ui = ScreenServer(UiSettings(port=0, voice=False, worker_mode=True, heartbeat_s=1.0),
                 on_worker_input=received.put, catalogue={})
    ui.start()
    try:
        yield ui, received
    finally:
        ui.stop()


def _type(browser: Any, keys: str) -> None:
    browser.switch_to.active_element.send_keys(keys)


def _focused(browser: Any) -> str:
    return str(browser.execute_script("return document.activeElement.id"))


def test_worker_keys_in_id_and_consent(
    browser: Any, worker_kiosk: tuple[ScreenServer, queue.Queue[WorkerInput]], artifacts: Path
) -> None:
    ui, received = worker_kiosk
    browser.get(ui.url)
    wait_until(lambda: browser.execute_script("return window.kiosk.online"), "connection")
    ui.publish(view("idle"))
    wait_text(browser, "w-label", "工作人员工号")
    assert _focused(browser) == "w-input"
    _type(browser, "1024" + Keys.ENTER)
    wait_text(browser, "w-label", "身份证号码")

    _type(browser, "110105194912310021" + Keys.ENTER)  # wrong check digit
    wait_text(browser, "w-error", "身份证号码有误")
    assert browser.find_element("id", "w-error").get_attribute("role") == "alert"
    _type(browser, Keys.BACKSPACE + "x")  # lower-case x is taken as X
    _shot = artifacts / "11-worker-id.png"
    browser.save_screenshot(str(_shot))
    _type(browser, Keys.ENTER)
    wait_text(browser, "w-consent-title", "是否同意进行人脸识别认证")
    assert "不同意，改用其他方式认证" in text_of(browser, "w-decline")
    assert _focused(browser) == "w-agree"
    browser.save_screenshot(str(artifacts / "12-worker-consent.png"))
    _type(browser, Keys.ENTER)

    event = received.get(timeout=5)
    assert event == WorkerInput(id_number=VALID_ID, operator_id="1024", consent=True,
                                notice_version=NOTICE_VERSION)  # the notice the form showed
    wait_text(browser, "w-done-text", "已提交")
    assert browser.execute_script("return document.getElementById('w-input').value") == ""

    # the next person declines face recognition: the page offers the other way
    _type(browser, Keys.TAB)
    assert _focused(browser) == "w-again"
    _type(browser, Keys.ENTER)
    wait_text(browser, "w-label", "身份证号码")
    _type(browser, VALID_ID + Keys.ENTER)
    wait_until(lambda: _focused(browser) == "w-agree", "focus on the consent buttons")
    _type(browser, Keys.TAB)
    assert _focused(browser) == "w-decline"
    _type(browser, Keys.SPACE)
    event = received.get(timeout=5)
    assert event.consent is False and event.operator_id == "1024"
    wait_text(browser, "w-done-text", "请到就近的社保服务窗口办理")
    browser.save_screenshot(str(artifacts / "13-worker-declined.png"))
    assert ui.status()["worker_inputs"] == 2


def test_touch_targets_are_large(
    browser: Any, worker_kiosk: tuple[ScreenServer, queue.Queue[WorkerInput]]
) -> None:
    ui, _received = worker_kiosk
    browser.get(ui.url)
    wait_until(lambda: browser.execute_script("return window.kiosk.online"), "connection")
    sizes = browser.execute_script(
        "return [...document.querySelectorAll('#screen-worker button')]"
        ".filter(b => b.offsetParent !== null)"
        ".map(b => [b.textContent.trim(), b.offsetWidth, b.offsetHeight])")
    assert sizes, "no visible buttons"
    for label, width, height in sizes:
        assert width >= 64 and height >= 64, f"button {label!r} is {width}x{height}"
