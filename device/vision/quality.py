"""Face-image quality gates: pure functions, each with a threshold in [session.quality] and a
guidance code in device/messages.py.

Region statistics are taken on the aligned 112x112 crop (device.vision.align.align_face), where
the ArcFace template puts the eyes at y=52, x=38/74, the nose tip at (56, 72) and the mouth
corners at y=92, so every region is a fixed rectangle whatever the face size, and sharpness is
normalised by size for free.

Measured with `python -m device.session.quality_eval --stride 4 --limit 1000` over 890
single-face lfw-dev images and their degraded copies (device/session/degrade.py), at the
default thresholds of [session.quality]: the share of images on which the gate meant to catch
each degradation fires, and (after the slash) the share of the good originals on which the same
gate fires.

    dark 99.9 / too_dark 0.0        bright 92.6 / too_bright 0.0 (7 % of faces are lost)
    backlit 99.6 / backlit 0.2      blurred 89.1 / blurred 0.0
    off-centre 97.4 / off_centre 0.1   rotated 30 deg 97.5 / head_tilted 0.3
    shrunk to 35 % 98.4 / too_far 0.3  sunglasses 98.5 / sunglasses 0.9
    mask 99.7 / mask 0.8            hat 98.0 / hat 4.3 (the top scorers all wear caps or hats)
    head_turned 6.1 and head_pitched 6.3 on good images: LFW has that many turned heads.
    eyes_closed 0.2: the lowest-EAR LFW photos (0.16-0.18) are eyes squeezed shut.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from device.session.settings import QualitySettings
from device.vision.types import Box, FaceObservation, HeadPose, Image, Points

Gray = npt.NDArray[np.float32]
Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in the aligned 112x112 crop

EYES: tuple[Rect, Rect] = ((30, 47, 47, 57), (65, 47, 82, 57))
CHEEKS: tuple[Rect, Rect] = ((22, 62, 40, 72), (72, 62, 90, 72))
LOWER_FACE: Rect = (36, 84, 76, 106)
FOREHEAD: Rect = (36, 18, 76, 34)
FACE_CENTRE: Rect = (28, 40, 84, 100)
# Mesh indices of the eye contours used for the eye aspect ratio (person's right, then left).
EAR_POINTS = ((33, 160, 158, 133, 153, 144), (362, 385, 387, 263, 373, 380))


@dataclass(frozen=True, slots=True)
class GateCheck:
    """One gate's verdict: `code` is its guidance code when it fails, `value` what it measured."""

    code: str
    value: float
    ok: bool


@dataclass(frozen=True, slots=True)
class QualityReport:
    """All failing gates' codes in check order (the first is shown), and every measurement."""

    issues: tuple[str, ...]
    metrics: Mapping[str, float] = field(default_factory=dict)
    score: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.issues


def luma(rgb: Image) -> Gray:
    """BT.601 luminance Y (0..255) as float32."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.asarray(rgb.astype(np.float32) @ weights, dtype=np.float32)


def _region(image: npt.NDArray[np.float32], rect: Rect) -> npt.NDArray[np.float32]:
    x0, y0, x1, y1 = rect
    return image[y0:y1, x0:x1]


def _chroma(aligned: Image, rect: Rect) -> npt.NDArray[np.float64]:
    ycrcb = cv2.cvtColor(aligned, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    patch = _region(ycrcb, rect)
    return np.asarray(patch[..., 1:].reshape(-1, 2).mean(axis=0), dtype=np.float64)


def _cheeks_chroma(aligned: Image) -> npt.NDArray[np.float64]:
    return (_chroma(aligned, CHEEKS[0]) + _chroma(aligned, CHEEKS[1])) / 2.0


def _mean(y: Gray, rects: Sequence[Rect]) -> float:
    return float(np.mean([_region(y, r).mean() for r in rects]))


def check_count(faces: Sequence[FaceObservation]) -> GateCheck:
    if not faces:
        return GateCheck("no_face", 0.0, False)
    return GateCheck("multiple_faces", float(len(faces)), len(faces) == 1)


def check_size(box: Box, frame_width: int, s: QualitySettings) -> GateCheck:
    """Too far when the box is narrower than min_face_px, too close when it fills the frame."""
    if box.width < s.min_face_px:
        return GateCheck("too_far", box.width, False)
    return GateCheck("too_close", box.width, box.width <= s.max_face_ratio * frame_width)


def centre_offset(box: Box, frame_size: tuple[int, int], s: QualitySettings) -> float:
    """The face centre's distance from the guide oval's centre, in oval radii (1 = on the rim)."""
    width, height = frame_size
    cx, cy = box.center
    rx, ry = s.oval_width_ratio * width / 2.0, s.oval_height_ratio * height / 2.0
    return math.hypot((cx - width / 2.0) / rx, (cy - height / 2.0) / ry)


def check_centre(box: Box, frame_size: tuple[int, int], s: QualitySettings) -> GateCheck:
    offset = centre_offset(box, frame_size, s)
    return GateCheck("off_centre", offset, offset <= s.max_centre_offset)


def face_luma(aligned: Image) -> float:
    return _mean(luma(aligned), [FACE_CENTRE])


def background_luma(rgb: Image, box: Box) -> float:
    """Mean Y outside the face box grown by half its size (the face's own luma if none is left)."""
    y = luma(rgb)
    mask = np.ones(y.shape, dtype=bool)
    grow_x, grow_y = box.width / 2.0, box.height / 2.0
    x0, y0 = max(0, int(box.x0 - grow_x)), max(0, int(box.y0 - grow_y))
    x1, y1 = max(0, int(box.x1 + grow_x)), max(0, int(box.y1 + grow_y))
    mask[y0:y1, x0:x1] = False
    return float(y[mask].mean()) if mask.any() else float("nan")


def check_exposure(face_y: float, s: QualitySettings) -> GateCheck:
    if face_y < s.min_luma:
        return GateCheck("too_dark", face_y, False)
    return GateCheck("too_bright", face_y, face_y <= s.max_luma)


def check_backlight(face_y: float, background_y: float, s: QualitySettings) -> GateCheck:
    delta = background_y - face_y if math.isfinite(background_y) else 0.0
    return GateCheck("backlit", delta, delta <= s.max_backlight_delta)


def sharpness(aligned: Image) -> float:
    """Variance of the Laplacian over the central face region of the aligned crop."""
    gray = cv2.cvtColor(aligned, cv2.COLOR_RGB2GRAY)
    laplacian = np.asarray(cv2.Laplacian(gray, cv2.CV_32F, ksize=3), dtype=np.float32)
    return float(_region(laplacian, FACE_CENTRE).var())


def check_blur(value: float, s: QualitySettings) -> GateCheck:
    return GateCheck("blurred", value, value >= s.min_sharpness)


def check_pose(pose: HeadPose, s: QualitySettings) -> list[GateCheck]:
    """Yaw (turned), pitch (looking up or down) and roll (tilted), each against its limit."""
    return [
        GateCheck("head_turned", pose.yaw_deg, abs(pose.yaw_deg) <= s.max_yaw_deg),
        GateCheck("head_pitched", pose.pitch_deg, abs(pose.pitch_deg) <= s.max_pitch_deg),
        GateCheck("head_tilted", pose.roll_deg, abs(pose.roll_deg) <= s.max_roll_deg),
    ]


def eye_aspect_ratio(points: Points) -> float:
    """The larger of the two eyes' aspect ratios (one open eye is enough: a wink, a squint)."""
    ratios = []
    for p1, p2, p3, p4, p5, p6 in EAR_POINTS:
        width = float(np.linalg.norm(points[p1, :2] - points[p4, :2]))
        lids = np.linalg.norm(points[p2, :2] - points[p6, :2]) + np.linalg.norm(
            points[p3, :2] - points[p5, :2]
        )
        ratios.append(float(lids) / (2.0 * width) if width > 0 else 0.0)
    return max(ratios)


def check_eyes(points: Points, s: QualitySettings) -> GateCheck:
    ear = eye_aspect_ratio(points)
    return GateCheck("eyes_closed", ear, ear >= s.min_eye_aspect_ratio)


def check_sunglasses(aligned: Image, s: QualitySettings) -> GateCheck:
    """Dark and flat eye regions relative to the cheeks."""
    y = luma(aligned)
    darkness = _mean(y, EYES) / max(_mean(y, CHEEKS), 1.0)
    texture = float(np.mean([_region(y, r).std() for r in EYES]))
    covered = darkness < s.max_eye_darkness and texture < s.min_eye_texture
    return GateCheck("sunglasses", darkness, not covered)


def check_mask(aligned: Image, s: QualitySettings) -> GateCheck:
    """A lower face whose colour or brightness differs from the cheeks' skin."""
    distance = float(np.linalg.norm(_chroma(aligned, LOWER_FACE) - _cheeks_chroma(aligned)))
    y = luma(aligned)
    brighter = _mean(y, [LOWER_FACE]) / max(_mean(y, CHEEKS), 1.0)
    covered = distance > s.max_mask_colour_distance or brighter > s.max_mask_luma_ratio
    return GateCheck("mask", distance, not covered)


def check_hat(aligned: Image, s: QualitySettings) -> GateCheck:
    """A forehead whose colour differs from the cheeks', or that is much darker than them."""
    distance = float(np.linalg.norm(_chroma(aligned, FOREHEAD) - _cheeks_chroma(aligned)))
    y = luma(aligned)
    darkness = _mean(y, [FOREHEAD]) / max(_mean(y, CHEEKS), 1.0)
    covered = distance > s.max_hat_colour_distance or darkness < s.min_hat_luma_ratio
    return GateCheck("hat", distance, not covered)


def motion(history: Sequence[Points]) -> float:
    """Largest mean landmark displacement between consecutive frames, over the eye distance."""
    if len(history) < 2:
        return 0.0
    largest = 0.0
    for before, after in itertools.pairwise(history):
        eye_distance = float(np.linalg.norm(after[1] - after[0]))
        step = float(np.linalg.norm(after - before, axis=1).mean())
        largest = max(largest, step / eye_distance if eye_distance > 0 else math.inf)
    return largest


def check_still(history: Sequence[Points], s: QualitySettings) -> GateCheck:
    value = motion(history[-s.motion_frames :])
    return GateCheck("not_still", value, value <= s.max_motion_ratio)


def frame_score(sharp: float, pose: HeadPose | None, face_px: float, s: QualitySettings) -> float:
    """Best-frame score in [0, 3]: sharpness (saturating at 4x the gate), frontalness, size."""
    sharp_part = min(sharp / (4.0 * s.min_sharpness), 1.0) if s.min_sharpness > 0 else 1.0
    frontal = 0.0
    if pose is not None:
        off = max(abs(pose.yaw_deg) / s.max_yaw_deg, abs(pose.pitch_deg) / s.max_pitch_deg)
        frontal = max(0.0, 1.0 - off)
    size_part = min(face_px / (3.0 * s.min_face_px), 1.0)
    return sharp_part + frontal + size_part


def assess(
    rgb: Image,
    faces: Sequence[FaceObservation],
    aligned: Image | None,
    history: Sequence[Points],
    s: QualitySettings,
) -> QualityReport:
    """Run every gate in guidance order on one frame; `aligned` is the single face's crop and
    `history` its recent five-point landmarks (this frame last)."""
    count = check_count(faces)
    if not count.ok or aligned is None:
        return QualityReport(issues=(count.code if not count.ok else "face_unclear",))
    face = faces[0]
    height, width = rgb.shape[:2]
    box = face.detection.box
    sharp = sharpness(aligned)
    face_y = face_luma(aligned)
    checks = [
        check_size(box, width, s),
        check_centre(box, (width, height), s),
        check_exposure(face_y, s),
        check_backlight(face_y, background_luma(rgb, box), s),
        check_blur(sharp, s),
    ]
    if face.pose is None or face.mesh is None:
        checks.append(GateCheck("face_unclear", 0.0, False))
    else:
        checks += [*check_pose(face.pose, s), check_eyes(face.mesh.points, s)]
    checks += [check_sunglasses(aligned, s), check_mask(aligned, s), check_hat(aligned, s)]
    checks.append(check_still(history, s))
    metrics = {c.code: round(c.value, 4) for c in checks}
    metrics["luma"] = round(face_y, 2)
    return QualityReport(
        issues=tuple(c.code for c in checks if not c.ok),
        metrics=metrics,
        score=frame_score(sharp, face.pose, box.width, s),
    )
