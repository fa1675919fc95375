"""`faceterm-fleet` sets thresholds on a group of 20 simulated kiosks and collects 20 signed
SUCCEEDED replies; its status table lists them from retained status and telemetry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from device.demo.site import Site
from tests.support.fleet import RunningKiosk, kiosk_sections, site_and_broker

pytestmark = pytest.mark.broker
COUNT = 20


def cli(
    site: Site, port: int, *args: str, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    cert, key = site.client_files("fleet")
    operator = site.operator_key
    connection = ["--broker", f"127.0.0.1:{port}", "--ca", str(site.ca_cert), "--cert", str(cert),
                  "--key-file", str(key), "--devices-registry", str(site.registry),
                  "--tenant", "demo"]
    command, *rest = args
    signer = ["--key", str(operator), "--kid", site.operator_kid] if command == "send" else []
    return subprocess.run(
        [sys.executable, "-c", "from device.fleet.cli import main; raise SystemExit(main())",
         command, *connection, *signer, *rest],
        capture_output=True, text=True, timeout=timeout_s,
    )


def test_thresholds_on_twenty_devices(tmp_path: Path) -> None:
    with site_and_broker(tmp_path) as (site, broker):
        kiosks = []
        try:
            for i in range(COUNT):
                device = f"kiosk-{i:02d}"
                sections = kiosk_sections(tmp_path, fleet={"groups": ["district-7"]},
                                          camera={"fps": 1.0})
                kiosks.append(RunningKiosk(site.provision_kiosk(device, broker.port, sections))
                              .start())
            names = ",".join(f"kiosk-{i:02d}" for i in range(COUNT))
            result = cli(site, broker.port, "send", "--group", "district-7", "--devices", names,
                         "thresholds.set", "--params", json.dumps({"match_threshold": 0.39}))
            assert result.returncode == 0, result.stdout + result.stderr
            assert result.stdout.count("SUCCEEDED") == COUNT
            for running in kiosks:
                assert running.kiosk is not None
                assert running.kiosk.config.session.match_threshold == 0.39
                assert "match_threshold = 0.39" in running.config_path.read_text()
            table = cli(site, broker.port, "status", "--wait", "6")
            assert table.returncode == 0, table.stderr
            assert sum(1 for line in table.stdout.splitlines() if " online " in line) == COUNT
        finally:
            for running in kiosks:
                running.stop()


def test_a_device_outside_the_group_refuses(tmp_path: Path) -> None:
    with site_and_broker(tmp_path) as (site, broker):
        running = RunningKiosk(site.provision_kiosk(
            "kiosk-other", broker.port, kiosk_sections(tmp_path, fleet={"groups": ["north"]})))
        running.start()
        try:
            result = cli(site, broker.port, "send", "--group", "district-7", "--devices",
                         "kiosk-other", "thresholds.set", "--timeout", "20",
                         "--params", json.dumps({"match_threshold": 0.39}))
            assert result.returncode == 1
            assert "REJECTED" in result.stdout and "wrong_audience" in result.stdout
        finally:
            running.stop()
