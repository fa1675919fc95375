"""The replay camera: frame rate, bounded queue, injected faults, and the pump's recovery."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from device.camera import open_camera
from device.camera.base import CameraConfig, Frame
from device.camera.pump import CameraPump
from device.camera.replay import ReplayCamera, ReplayFaults
from device.camera.settings import CameraSettings
from device.errors import CameraError, ConfigError


@pytest.fixture()
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        image = np.zeros((120, 160, 3), np.uint8)
        image[:, :, 2] = 200  # red in BGR order on disk
        image[0, 0] = (i, i, i)
        cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return folder


def test_replay_delivers_rgb_frames_at_the_configured_size(images: Path) -> None:
    camera = ReplayCamera(images)
    camera.configure(CameraConfig(width=320, height=240, fps=50))
    camera.start()
    try:
        with camera.capture(2.0) as frame:
            assert frame.rgb.shape == (240, 320, 3)
            assert frame.rgb.dtype == np.uint8
            centre = frame.rgb[120, 160]
            assert centre[0] > 150 and centre[2] < 50  # red lands in channel 0: RGB order
    finally:
        camera.close()


def test_replay_of_a_video_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), i * 40, np.uint8))
    writer.release()
    camera = ReplayCamera(path, loop=False)
    camera.configure(CameraConfig(64, 48, 100))
    camera.start()
    seen = []
    try:
        with pytest.raises(CameraError, match="replay finished"):
            while True:
                with camera.capture(2.0) as frame:
                    seen.append(int(frame.rgb.mean()))
    finally:
        camera.close()
    assert len(seen) >= 3
    assert seen == sorted(seen)


def test_black_frames_stall_and_disconnect(images: Path) -> None:
    faults = ReplayFaults(stall_at=((2, 0.6),), black_frames=frozenset({1}), disconnect_at=4)
    camera = ReplayCamera(images, faults=faults, queue_size=8)
    camera.configure(CameraConfig(80, 60, 100))
    camera.start()
    try:
        with camera.capture(2.0) as first:
            assert first.rgb.max() > 0
        with camera.capture(2.0) as black:
            assert black.rgb.max() == 0
        with pytest.raises(CameraError, match="no frame"), camera.capture(0.2):
            pass
        with camera.capture(2.0) as after_stall:
            assert after_stall.sequence == 2
        with camera.capture(2.0):
            pass
        with pytest.raises(CameraError, match="disconnected"), camera.capture(2.0):
            pass
    finally:
        camera.close()


def test_slow_consumer_drops_oldest_frames_and_counts_them(images: Path) -> None:
    camera = ReplayCamera(images, queue_size=2)
    camera.configure(CameraConfig(80, 60, 200))
    camera.start()
    time.sleep(0.3)
    try:
        with camera.capture(1.0) as frame:
            assert frame.sequence > 2
        assert camera.status()["dropped"] > 0
    finally:
        camera.close()


def test_missing_source_is_a_camera_error(tmp_path: Path) -> None:
    camera = ReplayCamera(tmp_path / "nowhere")
    with pytest.raises(CameraError, match="does not exist"):
        camera.start()


def test_factory_requires_a_replay_path() -> None:
    with pytest.raises(ConfigError, match="replay_path"):
        open_camera(CameraSettings(type="replay"))


def test_pump_recovers_after_a_disconnect(images: Path) -> None:
    camera = ReplayCamera(images, faults=ReplayFaults(disconnect_at=3))
    camera.configure(CameraConfig(80, 60, 100))
    frames: list[Frame] = []
    failures: list[str] = []
    got_enough = threading.Event()

    def on_frame(frame: Frame) -> None:
        frames.append(frame)
        if len(frames) >= 6:
            got_enough.set()

    pump = CameraPump(camera, on_frame, failures.append, capture_timeout_s=1.0, max_backoff_s=0.5)
    pump.start()
    try:
        assert got_enough.wait(10.0)
    finally:
        pump.stop()
    assert failures and "disconnected" in failures[0]
    assert pump.status()["restarts"] >= 1


def test_picamera2_lores_stream_size_and_conversion() -> None:
    from device.camera.picam import lores_rgb, lores_size

    assert lores_size(CameraConfig(640, 480, 15.0, 320)) == (320, 240)
    assert lores_size(CameraConfig(640, 360, 15.0, 321)) == (320, 180)
    assert lores_size(CameraConfig(640, 480, 15.0, 0)) is None
    assert lores_size(CameraConfig(320, 240, 15.0, 320)) is None  # not smaller: no lores
    rgb = np.zeros((240, 320, 3), np.uint8)
    rgb[:, :160] = (200, 40, 40)
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)  # the planar layout picamera2 hands over
    assert yuv.shape == (360, 320)
    back = lores_rgb(yuv)
    assert back.shape == (240, 320, 3)
    assert np.abs(back.astype(int) - rgb.astype(int)).max() < 8
