"""Configuration: bad files are refused naming key and line; good files load with defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from device.config import find_line, parse, redacted
from device.errors import ConfigError

GOOD = """
[device]
id = "kiosk-7"
state_dir = "/tmp/x"

[camera]
type = "replay"
replay_path = "faces"
fps = 10

[identity]
device_key = "/secret/device.key"
"""


def test_good_config_loads_and_keeps_defaults() -> None:
    config = parse(GOOD)
    assert config.device.id == "kiosk-7"
    assert config.camera.fps == 10.0
    assert config.camera.width == 640
    assert config.session.max_attempts >= 1


@pytest.mark.parametrize(
    ("text", "key", "line", "reason"),
    [
        ('[camera]\ntype = "replay"\ncolour = "red"\n', "camera.colour", 3, "unknown key"),
        ("[camera]\nwidth = \"wide\"\n", "camera.width", 2, "integer"),
        ("[device]\nid = \"a\"\n\n[session]\nmax_attempts = 99\n", "session.max_attempts",
         5, "less"),
        ("[cardreader]\nread_timeout_s = -1\n", "cardreader.read_timeout_s", 2, "greater"),
        ("[camera]\ntype = \"webcam\"\n", "camera.type", 2, "picamera2"),
        ("[nonsense]\nx = 1\n", "nonsense", 1, "unknown key"),
        ("[mqtt]\nport = 70000\n", "mqtt.port", 2, "less"),
        ("[device]\nid = \"bad id with spaces\"\n", "device.id", 2, "pattern"),
    ],
)
def test_bad_config_names_key_and_line(text: str, key: str, line: int, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text, "faceterm.toml")
    message = str(info.value)
    assert f"faceterm.toml:{line}: {key}:" in message
    assert reason in message


def test_malformed_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse("[camera\nfps = 1\n")


def test_find_line_handles_dotted_tables() -> None:
    text = "[a]\nx = 1\n[a.b]\n# c\ny = 2\n"
    assert find_line(text, ("a", "b", "y")) == 5
    assert find_line(text, ("a", "x")) == 2
    assert find_line(text, ("a", "b", "missing")) == 3


def test_redacted_hides_secrets() -> None:
    data = redacted(parse(GOOD))
    assert data["identity"]["device_key"] == "***"
    assert data["camera"]["replay_path"] == "faces"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "device", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_validate_exits_non_zero_naming_key_and_line(tmp_path: Path) -> None:
    path = tmp_path / "faceterm.toml"
    path.write_text('[device]\nid = "k"\n[ui]\nport = "x"\n')
    result = run_cli("--config", str(path), "config", "validate")
    assert result.returncode != 0
    assert f"{path}:4: ui.port:" in result.stderr


def test_cli_validate_and_show_accept_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "faceterm.toml"
    path.write_text(GOOD)
    assert run_cli("--config", str(path), "config", "validate").returncode == 0
    shown = run_cli("--config", str(path), "config", "show")
    assert shown.returncode == 0
    assert "/secret/device.key" not in shown.stdout
    assert '"kiosk-7"' in shown.stdout


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "nope.toml"), "config", "validate")
    assert result.returncode != 0
    assert "cannot read configuration" in result.stderr


def test_the_shipped_example_configuration_is_valid() -> None:
    from device.config import load

    example = Path(__file__).resolve().parents[3] / "examples" / "faceterm.toml"
    config = load(example)
    assert config.device.id == "kiosk-bj-dongcheng-017"
    assert config.fleet.groups == ["dongcheng"]
