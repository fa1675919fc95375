"""The unit files: a silent systemd-analyze verify, the exposure score, the settings we rely on."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SYSTEMD_DIR = REPO / "systemd"
UNITS = ["faceterm.service", "faceterm-kiosk.service"]
EXEC_RE = re.compile(r"^(Exec\w+=[-@:+!]*)(/\S+)", re.MULTILINE)
MAX_EXPOSURE = 2.5

analyze = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed")


def settings(unit: str) -> dict[str, list[str]]:
    """Key -> values of a unit file (continuation lines joined, comments dropped)."""
    text = (SYSTEMD_DIR / unit).read_text(encoding="utf-8").replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(" ".join(value.split()))
    return found


def verifiable_copy(unit: str, folder: Path) -> Path:
    """A copy whose executables exist here: missing ones (/opt/faceterm/..., cage) point to a stub.

    systemd-analyze verify checks that every Exec*= binary is executable; everything else in
    the unit is left exactly as shipped.
    """
    stub = folder / "stub-exe"
    stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    stub.chmod(0o755)

    def swap(match: re.Match[str]) -> str:
        exists = Path(match.group(2)).exists()
        return match.group(0) if exists else match.group(1) + str(stub)

    copy = folder / unit
    copy.write_text(EXEC_RE.sub(swap, (SYSTEMD_DIR / unit).read_text(encoding="utf-8")),
                    encoding="utf-8")
    return copy


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_is_silent(unit: str, tmp_path: Path) -> None:
    copy = verifiable_copy(unit, tmp_path)
    result = subprocess.run([str(analyze), "verify", "--man=no", str(copy)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=30, check=False)
    # Unknown keys and bad values are only warnings (exit 0): any output is a failure.
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def exposure(unit_path: Path) -> float:
    result = subprocess.run(
        [str(analyze), "security", "--offline=true", "--no-pager", str(unit_path)],
        cwd=unit_path.parent, capture_output=True, text=True, timeout=30, check=False)
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze has no --offline")
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


@needs_analyze
def test_service_exposure_is_at_most_2_5(tmp_path: Path) -> None:
    assert exposure(verifiable_copy("faceterm.service", tmp_path)) <= MAX_EXPOSURE


def test_service_is_a_notify_service_with_watchdog_and_restart_limits() -> None:
    unit = settings("faceterm.service")
    expected = {
        "Type": "notify", "NotifyAccess": "main", "Restart": "on-failure", "User": "faceterm",
        "StateDirectory": "faceterm", "ConfigurationDirectory": "faceterm", "UMask": "0077",
        "ExecStart": "/opt/faceterm/.venv/bin/faceterm --config /etc/faceterm/faceterm.toml run",
        "DevicePolicy": "closed", "MemoryDenyWriteExecute": "yes", "PrivateUsers": "yes",
        "ProtectSystem": "strict", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
        "SystemCallArchitectures": "native",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    }
    assert {key: unit[key][-1] for key in expected} == expected
    assert int(unit["WatchdogSec"][0]) > 0 and int(unit["StartLimitBurst"][0]) > 0
    assert "@system-service" in unit["SystemCallFilter"]
    assert set(unit["SupplementaryGroups"][0].split()) >= {"video", "dialout"}
    assert {"char-video4linux rw", "char-media rw", "char-dma_heap rw",
            "char-ttyUSB rw"} <= set(unit["DeviceAllow"])
    credentials = {value.split(":", 1)[0] for value in unit["LoadCredential"]}
    assert credentials >= {"device.key", "templates.key"}
    assert "MemoryMax" in unit


def test_kiosk_shows_the_local_page_from_tmpfs() -> None:
    unit = settings("faceterm-kiosk.service")
    command = unit["ExecStart"][0]
    assert "--kiosk" in command and command.endswith("http://127.0.0.1:8765/")
    assert "--user-data-dir=/run/faceterm-kiosk/profile" in command
    assert unit["RuntimeDirectory"] == ["faceterm-kiosk"]
    assert "faceterm.service" in unit["After"][0] and unit["Wants"] == ["faceterm.service"]
    assert unit["PartOf"] == ["faceterm.service"]


JOURNALD_KEYS = {
    "Storage", "Compress", "Seal", "SplitMode", "SyncIntervalSec", "RateLimitIntervalSec",
    "RateLimitBurst", "SystemMaxUse", "SystemKeepFree", "SystemMaxFileSize", "SystemMaxFiles",
    "RuntimeMaxUse", "RuntimeKeepFree", "RuntimeMaxFileSize", "RuntimeMaxFiles",
    "MaxRetentionSec", "MaxFileSec", "ForwardToSyslog", "ForwardToKMsg", "ForwardToConsole",
    "ForwardToWall", "MaxLevelStore", "MaxLevelSyslog", "MaxLevelKMsg", "MaxLevelConsole",
    "MaxLevelWall", "LineMax", "ReadKMsg", "Audit", "TTYPath",
}


def test_journald_drop_in_keeps_the_journal_in_ram() -> None:
    lines = (SYSTEMD_DIR / "50-faceterm-journald.conf").read_text(encoding="utf-8").splitlines()
    body = [line for line in lines if line and not line.startswith("#")]
    assert body[0] == "[Journal]"
    values = dict(line.split("=", 1) for line in body[1:])
    assert set(values) <= JOURNALD_KEYS
    assert values["Storage"] == "volatile" and values["ForwardToSyslog"] == "no"
    assert values["RuntimeMaxUse"].endswith("M")


@needs_analyze
def test_the_verify_check_would_catch_an_unknown_key(tmp_path: Path) -> None:
    copy = verifiable_copy("faceterm.service", tmp_path)
    copy.write_text(copy.read_text(encoding="utf-8").replace("UMask=0077", "UMask=0077\nUmask=1"),
                    encoding="utf-8")
    result = subprocess.run([str(analyze), "verify", "--man=no", str(copy)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0 and "Unknown key 'Umask'" in result.stderr
