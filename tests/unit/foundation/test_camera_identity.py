"""The camera as part of the trust chain: identities read from a sysfs tree laid out as the
kernel lays it out (in a temp dir: real files and symlinks, the sysfs root is a config value),
the pin check as a table, and the camera pump refusing a virtual or swapped camera."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from device.camera import camera_pin
from device.camera.base import CameraConfig
from device.camera.identity import (
    CameraIdentity,
    CameraPin,
    check_camera,
    csi_identity,
    v4l2_full_identity,
    v4l2_identity,
)
from device.camera.pump import CameraPump
from device.camera.replay import ReplayCamera, ReplayFaults
from device.camera.settings import CameraSettings

UVC_IFACE = "devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def link(path: Path, target: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.relpath(target, path.parent), path)


def uvc_camera(root: Path, node: str = "video0", serial: str = "A1B2C3") -> None:
    """A Logitech C525 on USB as /sys shows it (class link, interface, USB device, driver)."""
    usb = root / UVC_IFACE.rsplit("/", 1)[0]
    write(usb / "idVendor", "046d")
    write(usb / "idProduct", "0826")
    write(usb / "serial", serial)
    write(usb / "product", "HD Webcam C525")
    iface = root / UVC_IFACE
    video = iface / "video4linux" / node
    write(video / "name", "HD Webcam C525")
    link(video / "device", iface)
    (root / "bus/usb/drivers/uvcvideo").mkdir(parents=True, exist_ok=True)
    link(iface / "driver", root / "bus/usb/drivers/uvcvideo")
    link(root / "class/video4linux" / node, video)


def loopback_platform(root: Path, node: str = "video0") -> None:
    """v4l2loopback 0.12+: a platform device bound to the v4l2loopback driver."""
    device = root / "devices/platform/v4l2loopback.0"
    video = device / "video4linux" / node
    write(video / "name", "HD Webcam C525")  # the label is the attacker's choice
    link(video / "device", device)
    (root / "bus/platform/drivers/v4l2loopback").mkdir(parents=True, exist_ok=True)
    link(device / "driver", root / "bus/platform/drivers/v4l2loopback")
    link(root / "class/video4linux" / node, video)


def loopback_virtual(root: Path, node: str = "video0") -> None:
    """Older v4l2loopback: /sys/devices/virtual/video4linux/videoN, no device link."""
    video = root / "devices/virtual/video4linux" / node
    write(video / "name", "Dummy video device (0x0000)")
    link(root / "class/video4linux" / node, video)


def test_a_usb_camera_is_read_from_sysfs(tmp_path: Path) -> None:
    uvc_camera(tmp_path)
    identity = v4l2_identity("/dev/video0", tmp_path)
    assert identity == CameraIdentity("usb", "HD Webcam C525", "046d:0826", "A1B2C3", "uvcvideo")
    # /dev/video0 is no V4L2 node on this machine: QUERYCAP adds nothing, sysfs stands.
    assert v4l2_full_identity("/dev/video0", tmp_path) == identity


@pytest.mark.parametrize("make", [loopback_platform, loopback_virtual])
def test_a_loopback_device_is_virtual_whatever_its_label(tmp_path: Path, make) -> None:
    make(tmp_path)
    identity = v4l2_identity("/dev/video0", tmp_path)
    assert identity.virtual
    assert check_camera(identity, CameraPin(), None).refusal == "camera_virtual"


def test_a_missing_node_is_unknown_and_fails_a_pin(tmp_path: Path) -> None:
    identity = v4l2_identity("/dev/video3", tmp_path)
    assert identity.kind == "unknown"
    assert check_camera(identity, CameraPin(usb_id="046d:0826"), None).refusal


USB = CameraIdentity("usb", "HD Webcam C525", "046d:0826", "A1B2C3", "uvcvideo")
OTHER = CameraIdentity("usb", "HD Webcam C525", "046d:0826", "FFFF", "uvcvideo")
CSI = csi_identity({"Model": "imx708", "Location": 2})
SIM = CameraIdentity("simulator", "replay", driver="faceterm")


@pytest.mark.parametrize(
    ("identity", "pin", "first", "refusal"),
    [
        (USB, CameraPin(), None, ""),
        (USB, CameraPin(usb_id="046D:0826", serial="A1B2C3"), None, ""),
        (USB, CameraPin(usb_id="046d:0825"), None, "camera_not_pinned"),
        (OTHER, CameraPin(usb_id="046d:0826", serial="A1B2C3"), None, "camera_not_pinned"),
        (OTHER, CameraPin(), USB, "camera_changed"),
        (USB, CameraPin(), USB, ""),
        (CSI, CameraPin(sensor="imx708"), None, ""),
        (CSI, CameraPin(sensor="imx477"), None, "camera_not_pinned"),
        (SIM, CameraPin(usb_id="046d:0826"), None, "camera_not_pinned"),
        (SIM, CameraPin(sensor="imx708"), None, "camera_not_pinned"),
        (SIM, CameraPin(), None, ""),
    ],
)
def test_check_camera(identity, pin, first, refusal) -> None:
    assert check_camera(identity, pin, first).refusal == refusal


def test_pin_settings_are_validated() -> None:
    assert camera_pin(CameraSettings(pin_usb_id="046d:0826")).usb_id == "046d:0826"
    with pytest.raises(ValueError):
        CameraSettings(pin_usb_id="logitech")


class SysfsReplay(ReplayCamera):
    """The replay camera's frames under the identity a sysfs tree gives /dev/video0."""

    def __init__(self, path: Path, root: Path, faults: ReplayFaults | None = None) -> None:
        super().__init__(path, True, faults)
        self._root = root

    def identity(self) -> CameraIdentity:
        return v4l2_identity("/dev/video0", self._root)


def frames_dir(tmp_path: Path) -> Path:
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((48, 64, 3), 40 * i, np.uint8))
    return folder


def run_pump(camera: ReplayCamera, until, timeout_s: float = 20.0):
    checks, frames = [], []
    done = threading.Event()

    def on_check(check) -> None:
        checks.append(check)
        if until(checks):
            done.set()

    camera.configure(CameraConfig(64, 48, 30.0))
    pump = CameraPump(camera, frames.append, lambda error: None, 1.0, max_backoff_s=0.5,
                      on_check=on_check)
    pump.start()
    try:
        assert done.wait(timeout_s), f"checks so far: {checks}"
        return pump, checks, frames
    finally:
        pump.stop()


def test_the_pump_refuses_a_virtual_camera_and_posts_no_frame(tmp_path: Path) -> None:
    root = tmp_path / "sys"
    loopback_platform(root)
    pump, checks, frames = run_pump(SysfsReplay(frames_dir(tmp_path), root), lambda c: True)
    assert checks[0].refusal == "camera_virtual"
    assert pump.status()["identity"]["virtual"] is True
    assert pump.status()["refusal"] == "camera_virtual"
    assert frames == []


def test_a_camera_swapped_while_running_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "sys"
    uvc_camera(root)
    camera = SysfsReplay(frames_dir(tmp_path), root, ReplayFaults(disconnect_at=20))
    state = {"swapped": False}

    def until(checks) -> bool:
        if not state["swapped"]:  # first start: trusted; now swap the camera's serial
            (root / UVC_IFACE.rsplit("/", 1)[0] / "serial").write_text("EVIL\n")
            state["swapped"] = True
        return len(checks) >= 2

    _pump, checks, frames = run_pump(camera, until)
    assert checks[0].refusal == "" and checks[0].identity.serial == "A1B2C3"
    assert checks[1].refusal == "camera_changed" and checks[1].identity.serial == "EVIL"
    assert frames, "the trusted camera's frames were posted"
