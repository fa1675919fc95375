"""The bureau console in headless chromium, on a real mosquitto and the receiver's store:
sign-in, the fleet table with an offline kiosk flagged (its last will), alarms, a kiosk page
with a command signed by the operator key and the device's signed reply, results with the
chart, the CSV export, and actions refused to a viewer. Screenshots: test-artifacts/console/."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from joserfc import jws
from joserfc.jwk import OKPKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from selenium.webdriver.support.ui import Select

from device.fleet.channel import sign_reply
from tests.browser.console_site import Site, console_site, telemetry, wait_for
from tests.support.console import PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.broker]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with console_site(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="module")
def shots(artifacts: Path) -> Path:
    folder = artifacts.parent / "console"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot(browser: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    assert browser.save_screenshot(str(path)), f"screenshot {path} failed"
    assert path.stat().st_size > 5_000


def _sign_in(browser: Any, site: Site, user: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{site.url}/login")
    browser.find_element("id", "username").send_keys(user)
    browser.find_element("id", "password").send_keys(PASSWORDS[user])
    browser.find_element("id", "sign-in").click()
    wait_for(lambda: browser.find_elements("id", "who"), "the signed-in header")
    assert browser.find_element("id", "who").text == f"{user} ({user})"


def _offline_kiosk(site: Site, device: str) -> None:
    """Kill the kiosk's connection without DISCONNECT: the broker publishes its last will."""
    client = site.kiosks[device]
    client.loop_stop()
    sock = client.socket()
    assert sock is not None
    sock.close()
    wait_for(lambda: (s := site.queries.device(device)) is not None and s.status == "offline",
             f"{device}'s last will to reach the console", timeout_s=30)


def test_sign_in_and_fleet_table_flags_the_offline_kiosk(browser: Any, site: Site,
                                                         shots: Path) -> None:
    browser.get(f"{site.url}/")
    assert browser.current_url.endswith("/login")
    _shot(browser, shots, "01-sign-in")
    telemetry(site.kiosks["kiosk-1"], "district-1", "kiosk-1", outbox_depth=3)
    telemetry(site.kiosks["kiosk-3"], "district-2", "kiosk-3")
    wait_for(lambda: (s := site.queries.device("kiosk-3")) is not None and bool(s.telemetry),
             "kiosk-3's first telemetry")
    telemetry(site.kiosks["kiosk-3"], "district-2", "kiosk-3", outbox_depth=91_000,
              time=int(time.time()) - 3600, selftest={"ok": False}, camera="usb-046d-0825")
    _offline_kiosk(site, "kiosk-2")
    wait_for(lambda: (s := site.queries.device("kiosk-3")) is not None
             and s.telemetry.get("outbox_depth") == 91_000, "kiosk-3's alarm telemetry")
    _sign_in(browser, site, "viewer")
    row2 = browser.find_element("id", "kiosk-kiosk-2")
    assert row2.get_attribute("data-online") == "no" and "OFFLINE" in row2.text
    assert browser.find_element("id", "kiosk-kiosk-1").get_attribute("data-online") == "yes"
    row3 = browser.find_element("id", "kiosk-kiosk-3").text
    for alarm in ("outbox near full", "camera changed", "clock off", "self-test failed"):
        assert alarm in row3
    assert "outbox near full" not in browser.find_element("id", "kiosk-kiosk-1").text
    _shot(browser, shots, "02-fleet-offline-kiosk")


def test_results_with_chart_and_no_personal_data_for_a_viewer(browser: Any, site: Site,
                                                              shots: Path) -> None:
    _sign_in(browser, site, "viewer")
    browser.get(f"{site.url}/results?district=district-1")
    bars = browser.find_elements("css selector", "#results-chart rect.bar-pass")
    assert len(bars) == 3  # three days with passes
    kiosks = [r.text.split()[0] for r in browser.find_elements("css selector", "#by-kiosk tr")[1:]]
    assert kiosks == ["kiosk-1", "kiosk-2"]
    body = browser.find_element("tag name", "body").text
    assert "测试" not in body and "11010119" not in body
    assert not browser.find_elements("id", "export")
    _shot(browser, shots, "03-results-chart")


def test_viewer_is_refused_a_fleet_command_and_the_export(browser: Any, site: Site,
                                                          shots: Path) -> None:
    _sign_in(browser, site, "viewer")
    browser.get(f"{site.url}/kiosk/kiosk-1")
    browser.find_element("id", "send").click()
    wait_for(lambda: browser.find_elements("id", "refused"), "the refusal")
    assert "operator role" in browser.find_element("id", "refused").text
    _shot(browser, shots, "04-viewer-refused-command")
    assert site.queries.jobs("kiosk-1") == []
    browser.get(f"{site.url}/results.csv")
    assert "operator role" in browser.find_element("id", "refused").text


def _answer_commands(site: Site, device: str, tenant: str) -> list[dict[str, Any]]:
    """Kiosk side: verify each command with the operator's public key, reply signed."""
    seen: list[dict[str, Any]] = []
    public = OKPKey.import_key(site.operator_key.as_dict(private=False))

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        claims = json.loads(jws.deserialize_compact(msg.payload, public,
                                                    algorithms=["Ed25519"]).payload)
        seen.append(claims)
        reply = {"jti": claims["jti"], "command": claims["cmd"], "status": "SUCCEEDED",
                 "reason": None}
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.CorrelationData = msg.properties.CorrelationData
        client.publish(msg.properties.ResponseTopic,
                       sign_reply(site.device_keys[device], device, reply, time.time()),
                       qos=1, properties=props)

    client = site.kiosks[device]
    client.on_message = on_message
    subscribed: list[int] = []
    client.on_subscribe = lambda c, u, mid, codes, p: subscribed.append(mid)
    client.subscribe(f"faceterm/v1/{tenant}/{device}/cmd/#", qos=1)
    wait_for(lambda: bool(subscribed), f"{device}'s command subscription")
    return seen


def test_operator_kiosk_page_command_personal_results_and_csv(browser: Any, site: Site,
                                                              shots: Path) -> None:
    seen = _answer_commands(site, "kiosk-1", "district-1")
    _sign_in(browser, site, "operator")
    browser.get(f"{site.url}/kiosk/kiosk-1")
    Select(browser.find_element("id", "command-name")).select_by_visible_text("status.get")
    browser.find_element("id", "send").click()
    wait_for(lambda: browser.find_elements("id", "sent"), "the command to be queued")
    wait_for(lambda: bool(seen), "the kiosk to receive the signed command")
    assert seen[0]["cmd"] == "status.get" and seen[0]["aud"] == "kiosk-1"
    assert seen[0]["iss"] == "alice-2026"
    wait_for(lambda: site.queries.jobs("kiosk-1")[0][4] == "SUCCEEDED", "the signed reply")
    browser.refresh()
    assert browser.find_element("css selector", "#jobs .job-state").text == "SUCCEEDED"
    assert len(browser.find_elements("css selector", "#recent tr")) == 1 + 20
    assert len(browser.find_elements("css selector", "#telemetry tr")) >= 2
    _shot(browser, shots, "05-kiosk-page")

    browser.get(f"{site.url}/results?device=kiosk-1&personal=1")
    assert "测试" in browser.find_element("id", "results").text
    _shot(browser, shots, "06-results-personal-operator")
    csv_text = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch('/results.csv?district=district-2').then(r => r.text()).then(done);")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id_number,name,decision")
    assert len(lines) == 1 + 21 and all(",district-2," in line for line in lines[1:])
    browser.get(f"{site.url}/audit")
    audit = browser.find_element("id", "audit").text
    assert "view_personal" in audit and "export_csv" in audit and "command" in audit
    _shot(browser, shots, "07-audit")
