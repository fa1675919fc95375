"""scripts/*.sh are shellcheck-clean; install.sh/uninstall.sh --dry-run print, change nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = sorted((REPO / "scripts").glob("*.sh"))
INSTALLED = [Path("/opt/faceterm"), Path("/etc/faceterm"),
             Path("/etc/systemd/system/faceterm.service")]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_shellcheck_is_clean(script: Path) -> None:
    result = subprocess.run(["shellcheck", "--severity=style", str(script)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def dry_run(script: str, *args: str) -> list[str]:
    before = [path.exists() for path in INSTALLED]
    result = subprocess.run(["bash", str(REPO / "scripts" / script), "--dry-run", *args],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert [path.exists() for path in INSTALLED] == before  # nothing was done
    return result.stdout.splitlines()


def test_install_dry_run_prints_every_step() -> None:
    out = dry_run("install.sh", "--device-id", "kiosk-07", "--disable-swap")
    actions = [line for line in out if line.startswith("+ ")]
    expected = [
        "python3 -m venv --system-site-packages /opt/faceterm/.venv",
        "/opt/faceterm/.venv/bin/pip install --quiet --no-cache-dir --constraint "
        f"/opt/faceterm/constraints.txt {REPO}",
        f"install -m 0644 {REPO}/systemd/faceterm.service "
        "/etc/systemd/system/faceterm.service",
        f"install -m 0644 {REPO}/systemd/99-faceterm-idcard.rules "
        "/etc/udev/rules.d/99-faceterm-idcard.rules",
        f"install -m 0644 {REPO}/systemd/50-faceterm-journald.conf "
        "/etc/systemd/journald.conf.d/50-faceterm.conf",
        "systemctl daemon-reload",
        "udevadm control --reload-rules",
        "systemctl disable --now dphys-swapfile.service",
        "systemctl enable faceterm.service",
        "systemctl enable faceterm-kiosk.service",
        "systemctl restart faceterm.service",
    ]
    for command in expected:
        assert "+ " + command in actions, command
    venv, pip = (actions.index("+ " + command) for command in expected[:2])
    assert venv < pip < actions.index("+ systemctl enable faceterm.service")
    text = "\n".join(out)
    assert "provision --state-dir /etc/faceterm/credentials --device-id kiosk-07" in text
    assert "numpy<2" in text and 'id = "kiosk-07"' in text
    assert "/etc/faceterm/credentials/templates.key (mode 0600): 32 random bytes" in text


def test_install_dry_run_without_kiosk_or_start() -> None:
    out = "\n".join(dry_run("install.sh", "--no-kiosk", "--no-start"))
    assert "faceterm-kiosk" not in out and "systemctl restart faceterm.service" not in out
    assert "systemctl enable faceterm.service" in out


def test_install_rejects_unknown_options_and_bad_device_ids() -> None:
    for args in (["--frobnicate"], ["--device-id", "a b"]):
        result = subprocess.run(["bash", str(REPO / "scripts" / "install.sh"), "--dry-run", *args],
                                capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 2, args


def test_uninstall_dry_run_keeps_state_unless_purge() -> None:
    kept = "\n".join(dry_run("uninstall.sh"))
    assert "kept /etc/faceterm and /var/lib/faceterm" in kept
    purged = "\n".join(dry_run("uninstall.sh", "--purge"))
    assert "kept" not in purged
    assert "systemctl daemon-reload" in kept and "systemctl daemon-reload" in purged


def test_the_configuration_install_writes_is_valid() -> None:
    from device.config import parse

    out = dry_run("install.sh", "--device-id", "kiosk-07")
    start = out.index("+ write /etc/faceterm/faceterm.toml (mode 0644):")
    body = []
    for line in out[start + 1:]:
        if not line.startswith("|"):
            break
        body.append(line[4:])
    config = parse("\n".join(body), "install.sh")
    assert config.device.id == "kiosk-07"
    assert config.identity.device_key == "/run/credentials/faceterm.service/device.key"
    assert config.vision.models_dir == "/opt/faceterm/models"
