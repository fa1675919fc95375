"""A kiosk installs faceterm with its runtime dependencies only (no `dev`, no `eval` extra): in a
fresh venv every shipped module imports, and `faceterm --help`, `selftest` and an offline
`faceterm verify` work. The dependencies come from pyproject.toml, resolved by pip (from its
cache when it has them, else from PyPI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
ID = "11010519491231002X"
DEV_ONLY = ("scipy", "skimage", "matplotlib", "pytest", "hypothesis", "jwcrypto")
# Need the eval extra to run (they still import without it, and say what to install when used).
EVAL_EXTRA_MODULES = (
    "device.liveness.synth",
    "device.liveness.scenes",
    "device.liveness.evaluate",
    "device.eval.plot",
    "device.demo.faces",
    "device.demo.visitor",
    "device.demo.run",
)
# The bureau's web console and PostgreSQL store need the `bureau` extra: not part of a kiosk.
BUREAU_EXTRA_PACKAGES = ("device.bureau.console",)
IMPORT_ALL = """
import importlib, json, pkgutil, sys
import device
skip = tuple(sys.argv[1].split(","))
names = [m.name for m in pkgutil.walk_packages(device.__path__, "device.")
         if not m.name.endswith("__main__") and not m.name.startswith(skip)]
for name in names:
    importlib.import_module(name)
dev_only = [n for n in sys.argv[2:] if importlib.util.find_spec(n) is not None]
print(json.dumps({"modules": names, "dev_only_present": dev_only}))
"""

pytestmark = pytest.mark.timeout(600)


def runtime_requirements() -> list[str]:
    """pyproject's runtime dependencies whose markers hold on this machine."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [line for line in project["dependencies"]
            if (req := Requirement(line)).marker is None or req.marker.evaluate()]


def run(args: list[str], cwd: Path, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{args[:3]}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runtime-venv")
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, *runtime_requirements()], root)
    # Built from a copy of what the package is made of (no build/ or egg-info in the worktree);
    # pip fetches the build backend (setuptools, wheel) into its own isolated build env.
    source = root / "source"
    shutil.copytree(REPO / "device", source / "device",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    run([*pip, "--no-deps", str(source)], root)
    return python


def test_runtime_install_has_no_dev_packages_and_imports_every_module(runtime_venv: Path,
                                                                     tmp_path: Path) -> None:
    done = run([str(runtime_venv), "-c", IMPORT_ALL, ",".join(BUREAU_EXTRA_PACKAGES), *DEV_ONLY],
               tmp_path)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["dev_only_present"] == []
    assert set(EVAL_EXTRA_MODULES) <= set(result["modules"])
    assert len(result["modules"]) > 100


def faceterm(venv_python: Path) -> str:
    return str(venv_python.parent / "faceterm")


def config_file(tmp_path: Path) -> Path:
    config = tmp_path / "faceterm.toml"
    config.write_text(
        f'[device]\nid = "kiosk-runtime"\nstate_dir = "{tmp_path / "state"}"\n'
        f'[vision]\nmodels_dir = "{REPO / "models"}"\n'
        "[session]\nidentify_timeout_s = 3.0\ncapture_timeout_s = 5.0\n"
        "[liveness]\nenabled = false\n",
        encoding="utf-8",
    )
    return config


def test_help_selftest_and_offline_verify_run_without_dev_packages(runtime_venv: Path,
                                                                   tmp_path: Path) -> None:
    cli = faceterm(runtime_venv)
    assert "verify" in run([cli, "--help"], tmp_path).stdout
    config = config_file(tmp_path)
    selftest = run([cli, "--config", str(config), "selftest", "--skip-hardware", "--json"],
                   tmp_path).stdout
    report = json.loads(selftest[selftest.index("{"):])
    assert report["ok"], report["failures"]
    golden = REPO / "models" / "golden" / "astronaut.jpg"
    run([cli, "--config", str(config), "enroll", "--id", ID, "--image", str(golden)], tmp_path)
    card = {"name": "测试", "birth_date": "19491231", "id_number": ID,
            "valid_from": "20200101", "valid_until": "长期"}
    script = tmp_path / "card.json"
    script.write_text(json.dumps({"repeat": True, "steps": [{"card": card, "present_s": 60}]}))
    camera = tmp_path / "camera"
    camera.mkdir()
    (camera / "frame.jpg").write_bytes(golden.read_bytes())
    out = run([cli, "--config", str(config), "verify", "--card-sim", str(script),
               "--camera", str(camera), "--loop", "--max-s", "30"], tmp_path).stdout
    record = json.loads(out[out.index("\n{") + 1:] if not out.startswith("{") else out)
    assert record["decision"] == "pass"
    assert ID not in out


def test_an_eval_feature_names_the_extra_to_install(runtime_venv: Path, tmp_path: Path) -> None:
    code = ("from device.liveness.synth import Warper\n"
            "import numpy as np\n"
            "try:\n    Warper(np.zeros((468, 3), np.float32), (240, 320, 3))\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    done = run([str(runtime_venv), "-c", code], tmp_path)
    assert "ExtraMissing" in done.stdout and "faceterm[eval]" in done.stdout
    assert sys.version_info[:2] == (3, 11)
