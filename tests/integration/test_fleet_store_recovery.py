"""A garbage fleet job store does not stop the daemon: `faceterm run` renames it aside, says so,
starts a fresh one, and the pending config rollback still runs (the real daemon process,
restarted by exec as under systemd)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from device.demo.broker import free_port
from device.fleet.configstore import ConfigStore, Probation, merge, to_toml, write_atomically
from tests.integration.test_fleet_probation import wait_status
from tests.support.fleet import (
    ask,
    fleet_client,
    kiosk_sections,
    signed,
    site_and_broker,
)

pytestmark = pytest.mark.broker
DEVICE = "kiosk-probation"  # wait_status watches this device


def test_garbage_job_store_is_set_aside_and_a_pending_rollback_still_runs(tmp_path: Path) -> None:
    with site_and_broker(tmp_path) as (site, broker):
        config = site.provision_kiosk(DEVICE, broker.port, kiosk_sections(
            tmp_path, fleet={"config_probation_s": 4.0}))
        good = config.read_text()
        store = ConfigStore(config)
        write_atomically(store.previous, good)
        broken = merge(tomllib.loads(good), {"mqtt": {"port": free_port()}})
        write_atomically(config, to_toml(broken))
        Probation(store).begin()  # as config.set leaves it before its restart
        jobs = config.parent / "fleet-jobs.sqlite3"
        jobs.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
        process = subprocess.Popen(
            [sys.executable, "-m", "device", "--config", str(config), "run", "--duration", "120"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        client = fleet_client(site, broker)
        try:
            assert wait_status(client, "online", 60), "the daemon never came online"
            assert config.read_text() == good
            assert not Probation(store).pending
            reply = ask(client, DEVICE, signed(site, DEVICE, "status.get"))
            assert reply["status"] == "SUCCEEDED", reply
        finally:
            client.close()
            process.terminate()
            output, _ = process.communicate(timeout=30)
        assert "fleet job store" in output and "renamed to fleet-jobs.sqlite3.corrupt-" in output
        assert "failed its health check: rolling back" in output
        assert list(config.parent.glob("fleet-jobs.sqlite3.corrupt-*"))
