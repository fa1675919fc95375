"""pairs.txt parsing, the report summary, and `faceterm eval lfw` end to end on a tiny LFW-style
folder made from packaged pictures (scikit-image's astronaut and lfw_subset), real models."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from device.cli import main
from device.errors import FacetermError
from device.eval.lfw import Pair, read_pairs, summarise

REPO = Path(__file__).resolve().parents[3]


def write_pairs(folder: Path, header: str, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pairs.txt").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return folder


def test_read_pairs_folds_and_kinds(tmp_path: Path) -> None:
    lines = ["A 1 2", "B 1 3", "A 1 C 2", "B 2 D 1", "E 1 2", "F 4 5", "E 1 G 1", "F 1 H 12"]
    folder = write_pairs(tmp_path, "2\t2", lines)
    pairs = read_pairs(folder)
    assert [p.same for p in pairs] == [True, True, False, False] * 2
    assert [p.fold for p in pairs] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert pairs[0].first == folder / "images" / "A" / "A_0001.jpg"
    assert pairs[7].second == folder / "images" / "H" / "H_0012.jpg"
    limited = read_pairs(folder, limit=4)
    assert [(p.same, p.fold) for p in limited] == [(True, 0), (False, 0), (True, 1), (False, 1)]


@pytest.mark.parametrize(
    ("header", "lines", "message"),
    [
        ("x y", ["A 1 2", "A 1 B 1"], "first line"),
        ("1 1", ["A 1 2"], "expected 2 pairs"),
        ("1 1", ["A 1 2", "A 1 B 2 3"], "3 or 4 fields"),
    ],
)
def test_read_pairs_rejects_bad_files(
    tmp_path: Path, header: str, lines: list[str], message: str
) -> None:
    with pytest.raises(FacetermError, match=message):
        read_pairs(write_pairs(tmp_path, header, lines))


def test_summarise_has_the_report_keys() -> None:
    rng = np.random.default_rng(1)
    same = np.tile([True] * 50 + [False] * 50, 5)
    scores = np.where(same, rng.normal(0.6, 0.1, 500), rng.normal(0.0, 0.1, 500))
    pairs = [Pair(Path("a"), Path("b"), bool(s), i // 100) for i, s in enumerate(same)]
    report = summarise(scores, pairs)
    for key in ("accuracy", "tar_at_far_1e-2", "tar_at_far_1e-3", "threshold",
                "far_at_threshold"):  # fmt: skip
        assert key in report
    assert report["folds"] == 5 and report["pairs"] == 500
    assert report["accuracy"] > 0.98
    assert report["far_at_threshold"] <= 1e-3
    assert report["threshold"] == report["threshold_at_far_1e-3"]


def make_tiny_lfw(folder: Path) -> Path:
    """Two folds, each with one genuine pair (astronaut transformed) and one impostor pair."""
    data = pytest.importorskip("skimage.data")
    astronaut = np.ascontiguousarray(data.astronaut()[:, :, ::-1])  # BGR for imwrite
    height, width = astronaut.shape[:2]
    people = {"Astro": []}  # type: dict[str, list[np.ndarray]]
    for degrees in (0.0, 6.0, -6.0):
        matrix = cv2.getRotationMatrix2D((width / 2.0, height / 3.0), degrees, 1.0)
        people["Astro"].append(cv2.warpAffine(astronaut, matrix, (width, height)))
    for index, face in enumerate(data.lfw_subset()[:2]):
        grey = cv2.resize((face * 255).astype(np.uint8), (250, 250), interpolation=cv2.INTER_CUBIC)
        people[f"Other{index}"] = [cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)]
    for name, images in people.items():
        (folder / "images" / name).mkdir(parents=True)
        for number, image in enumerate(images, start=1):
            cv2.imwrite(str(folder / "images" / name / f"{name}_{number:04d}.jpg"), image)
    lines = ["Astro 1 2", "Astro 1 Other0 1", "Astro 2 3", "Astro 3 Other1 1"]
    return write_pairs(folder, "2 1", lines)


def test_eval_lfw_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = make_tiny_lfw(tmp_path / "lfw")
    out = tmp_path / "out"
    argv = ["--config", str(tmp_path / "absent.toml"), "eval", "lfw", "--data", str(data),
            "--out", str(out), "--models", str(REPO / "models"), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["pairs"] == 4 and report["images"] == 5
    assert report["accuracy"] == 1.0 and report["tar_at_far_1e-3"] == 1.0
    # The two upscaled 25-pixel crops are too small for the detector: centred fallback, counted.
    assert report["failures_to_enrol"] == len(report["failures_to_enrol_files"])
    assert (out / "roc.png").stat().st_size > 10_000
    assert '"accuracy": 1.0' in capsys.readouterr().out


def test_eval_lfw_needs_pairs(tmp_path: Path) -> None:
    argv = ["--config", str(tmp_path / "absent.toml"), "eval", "lfw", "--data", str(tmp_path)]
    assert main(argv) == 2
