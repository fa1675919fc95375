"""`faceterm provision --registry --tenant` records the tenant the bureau trusts (not the topic)."""

from __future__ import annotations

import json
from pathlib import Path

from device.cli import main


def test_provision_writes_the_devices_tenant_into_the_registry(tmp_path: Path) -> None:
    registry = tmp_path / "devices.json"
    argv = ["provision", "--state-dir", str(tmp_path / "state"), "--device-id", "kiosk-7",
            "--registry", str(registry), "--tenant", "district-3"]
    assert main(argv) == 0
    entry = json.loads(registry.read_text(encoding="utf-8"))["kiosk-7"]
    assert entry["tenant"] == "district-3"
    assert entry["jwk"]["crv"] == "Ed25519" and "d" not in entry["jwk"]  # public key only
