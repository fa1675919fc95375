"""A config.set of the fleet channel ([fleet], [mqtt]) needs a restart and stays on probation
until a signed command has been verified again: reaching the broker is not enough. A change
after which no command can arrive is rolled back by the device (the real daemon process,
restarted by exec as under systemd)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from device.demo.broker import Mosquitto
from device.demo.site import Site
from device.fleet.client import FleetClient
from tests.integration.test_fleet_probation import DEVICE, wait_status
from tests.support.fleet import (
    ask,
    fleet_client,
    kiosk_sections,
    signed,
    site_and_broker,
)

pytestmark = pytest.mark.broker


@contextmanager
def daemon(tmp_path: Path) -> Iterator[tuple[Site, Path, FleetClient, list[str]]]:
    with site_and_broker(tmp_path) as (site, broker):
        yield from _run(site, broker, tmp_path)


def _run(site: Site, broker: Mosquitto, tmp_path: Path
         ) -> Iterator[tuple[Site, Path, FleetClient, list[str]]]:
    config = site.provision_kiosk(DEVICE, broker.port, kiosk_sections(
        tmp_path, fleet={"config_probation_s": 6.0}))
    process = subprocess.Popen(
        [sys.executable, "-m", "device", "--config", str(config), "run", "--duration", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client = fleet_client(site, broker)
    output: list[str] = []
    try:
        assert wait_status(client, "online", 30)
        yield site, config, client, output
    finally:
        client.close()
        process.terminate()
        output.append(process.communicate(timeout=30)[0])


def config_set(site: Site, client: FleetClient, changes: dict[str, Any]) -> dict[str, Any]:
    reply = ask(client, DEVICE, signed(site, DEVICE, "config.set", {"changes": changes}))
    assert reply["status"] == "SUCCEEDED", reply
    return reply


def test_a_fleet_change_passes_probation_only_once_a_signed_command_verifies(
    tmp_path: Path,
) -> None:
    with daemon(tmp_path) as (site, config, client, output):
        pending = config.with_name(config.name + ".pending")
        reply = config_set(site, client, {"fleet": {"clock_skew_s": 300.0}})
        assert reply["result"]["applied"]["restart_required"] is True
        assert wait_status(client, "offline", 20) and wait_status(client, "online", 40)
        time.sleep(2.0)  # connected, yet still on probation: no command verified yet
        assert pending.exists()
        assert ask(client, DEVICE, signed(site, DEVICE, "status.get"))["status"] == "SUCCEEDED"
        deadline = time.monotonic() + 5.0
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pending.exists()
        assert "clock_skew_s = 300.0" in config.read_text()
    assert "passes only once a signed command is verified" in output[0]


def test_a_fleet_change_that_stops_commands_arriving_is_rolled_back(tmp_path: Path) -> None:
    with daemon(tmp_path) as (site, config, client, output):
        original = config.read_text()
        config_set(site, client, {"mqtt": {"topic_prefix": "faceterm/elsewhere"}})
        assert wait_status(client, "offline", 20)
        assert wait_status(client, "online", 60), "never came back on the bureau's topics"
        assert config.read_text() == original
        assert ask(client, DEVICE, signed(site, DEVICE, "status.get"))["status"] == "SUCCEEDED"
    assert "failed its health check: rolling back" in output[0]
