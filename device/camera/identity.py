"""Which camera the frames come from: read from sysfs (V4L2), picamera2's properties (CSI) or
the simulator's own name, and checked against the pin in [camera] before any session.

Virtual-camera injection (a v4l2loopback device fed a recorded face) is how attacks on remote
pension checks were done, so a loopback or test driver is refused outright, and a camera other
than the pinned one (or other than the one seen at start-up) is refused with a reason code.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Kernel drivers that make video devices out of software, not sensors.
VIRTUAL_DRIVERS = frozenset({"v4l2loopback", "v4l2 loopback", "vivid", "akvcam", "vimc", "vicodec"})
VIDIOC_QUERYCAP = 0x80685600  # _IOR('V', 0, struct v4l2_capability), 104 bytes
USB_ANCESTOR_LEVELS = 6


@dataclass(frozen=True, slots=True)
class CameraIdentity:
    """`kind` usb, csi, platform, simulator or unknown; `virtual` when a loopback/test driver."""

    kind: str
    model: str = ""
    usb_id: str = ""  # vendor:product, lower-case hex
    serial: str = ""
    driver: str = ""
    virtual: bool = False

    def record(self) -> dict[str, Any]:
        """The `camera` value of signed records, status and telemetry (no personal data)."""
        return {
            "kind": self.kind,
            "model": self.model,
            "usb_id": self.usb_id,
            "serial": self.serial,
            "driver": self.driver,
            "virtual": self.virtual,
        }


UNCHECKED = CameraIdentity(kind="unknown", model="unchecked")


@dataclass(frozen=True, slots=True)
class CameraPin:
    """The camera this kiosk must use; empty fields are not checked."""

    usb_id: str = ""
    serial: str = ""
    sensor: str = ""


@dataclass(frozen=True, slots=True)
class CameraCheck:
    """The outcome of one check: `refusal` is a reason code, empty when the camera is trusted."""

    identity: CameraIdentity
    refusal: str = ""


def check_camera(
    identity: CameraIdentity, pin: CameraPin, first: CameraIdentity | None
) -> CameraCheck:
    """Pure decision: virtual driver, pin mismatch, or a change since the first camera seen."""
    if identity.virtual:
        return CameraCheck(identity, "camera_virtual")
    if pin.usb_id and identity.usb_id != pin.usb_id.lower():
        return CameraCheck(identity, "camera_not_pinned")
    if pin.serial and identity.serial != pin.serial:
        return CameraCheck(identity, "camera_not_pinned")
    if pin.sensor and identity.model != pin.sensor:
        return CameraCheck(identity, "camera_not_pinned")
    if first is not None and identity != first:
        return CameraCheck(identity, "camera_changed")
    return CameraCheck(identity)


def simulator_identity(name: str) -> CameraIdentity:
    return CameraIdentity(kind="simulator", model=name, driver="faceterm")


def csi_identity(properties: Mapping[str, Any]) -> CameraIdentity:
    """From picamera2's camera_properties (libcamera: Model is the sensor, e.g. imx708)."""
    model = str(properties.get("Model", "") or "")
    return CameraIdentity(kind="csi" if model else "unknown", model=model, driver="libcamera")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _usb_ancestor(device_dir: Path, root: Path) -> Path | None:
    """The USB device directory (the one with idVendor) above a video interface."""
    current = device_dir
    for _ in range(USB_ANCESTOR_LEVELS):
        if (current / "idVendor").is_file():
            return current
        if current == root or current.parent == current:
            return None
        current = current.parent
    return None


def v4l2_identity(device: str, sysfs_root: Path) -> CameraIdentity:
    """Identity of /dev/videoN from <sysfs_root>/class/video4linux/videoN."""
    node = os.path.basename(os.path.realpath(device))
    entry = sysfs_root / "class" / "video4linux" / node
    if not entry.exists():
        return CameraIdentity(kind="unknown", model=node)
    name = _read(entry / "name")
    link = entry / "device"
    if not link.exists():  # old v4l2loopback: /sys/devices/virtual/video4linux/videoN
        return CameraIdentity(kind="platform", model=name, driver="virtual", virtual=True)
    device_dir = link.resolve()
    driver = (device_dir / "driver").resolve().name if (device_dir / "driver").exists() else ""
    virtual = driver.lower() in VIRTUAL_DRIVERS or "virtual" in device_dir.parts
    usb = _usb_ancestor(device_dir, sysfs_root.resolve())
    if usb is None:
        return CameraIdentity(kind="platform", model=name, driver=driver, virtual=virtual)
    usb_id = f"{_read(usb / 'idVendor')}:{_read(usb / 'idProduct')}".lower()
    model = _read(usb / "product") or name
    return CameraIdentity("usb", model, usb_id, _read(usb / "serial"), driver, virtual)


def querycap_driver(device: str) -> str | None:
    """The driver name VIDIOC_QUERYCAP reports for a real V4L2 node (None when not one)."""
    try:
        fd = os.open(device, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        buffer = bytearray(104)
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, buffer)
    except OSError as exc:
        if exc.errno not in (errno.ENOTTY, errno.EINVAL):
            log.warning("VIDIOC_QUERYCAP on %s failed: %s", device, exc)
        return None
    finally:
        os.close(fd)
    return bytes(buffer[:16]).split(b"\0", 1)[0].decode("ascii", "replace")


def v4l2_full_identity(device: str, sysfs_root: Path) -> CameraIdentity:
    """sysfs identity, marked virtual when the driver itself says it is a loopback."""
    identity = v4l2_identity(device, sysfs_root)
    reported = querycap_driver(device)
    if reported is not None and reported.lower() in VIRTUAL_DRIVERS:
        return CameraIdentity(identity.kind, identity.model, identity.usb_id, identity.serial,
                              reported, True)
    return identity
