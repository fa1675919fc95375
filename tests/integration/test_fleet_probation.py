"""A config.set that needs a restart and leaves the device unable to reach the broker is rolled
back by the device itself after its probation time: it restarts with the previous file and comes
back online (the real daemon process, restarted by exec as under systemd)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from device.demo.broker import free_port
from tests.support.fleet import (
    ask,
    fleet_client,
    kiosk_sections,
    signed,
    site_and_broker,
)

pytestmark = pytest.mark.broker
DEVICE = "kiosk-probation"


def wait_status(client: object, wanted: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if getattr(client, "retained", {}).get(DEVICE, {}).get("status") == wanted:
            return True
        time.sleep(0.1)
    return False


def test_bad_broker_port_is_rolled_back_after_probation(tmp_path: Path) -> None:
    with site_and_broker(tmp_path) as (site, broker):
        config = site.provision_kiosk(DEVICE, broker.port, kiosk_sections(
            tmp_path, fleet={"config_probation_s": 4.0}))
        original = config.read_text()
        process = subprocess.Popen(
            [sys.executable, "-m", "device", "--config", str(config), "run", "--duration", "120"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        client = fleet_client(site, broker)
        try:
            assert wait_status(client, "online", 30)
            reply = ask(client, DEVICE, signed(site, DEVICE, "config.set", {
                "changes": {"mqtt": {"port": free_port()}}}))
            assert reply["status"] == "SUCCEEDED", reply
            assert reply["result"]["applied"]["restart_required"] is True
            assert wait_status(client, "offline", 20)  # restarted with the broken port
            assert wait_status(client, "online", 40)  # rolled back and restarted
            assert config.read_text() == original
            assert not config.with_name(config.name + ".pending").exists()
            status = ask(client, DEVICE, signed(site, DEVICE, "status.get"))
            assert status["status"] == "SUCCEEDED"
        finally:
            client.close()
            process.terminate()
            output, _ = process.communicate(timeout=30)
        assert "failed its health check: rolling back" in output
