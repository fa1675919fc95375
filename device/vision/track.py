"""Following one face from frame to frame, as MediaPipe's face mesh graph does (pure functions).

The detector runs only to acquire a face, after the track is lost, and every
`redetect_every_n_frames` frames (so a second face entering the picture is seen within that many
frames: two faces are no face). In between, the mesh of the last frame stands in for a detection:
its bounding box, mapped through the relation between the detector's box and the mesh's box
measured at the last detection, gives the box (so size, centre and overlap gates read the same
scale as on a detected frame), and its eyes, nose, mouth and ear points give the six keypoints
(so the next mesh crop is centred and scaled as a detection's would be, `landmarks.face_roi`,
and turned level along the mesh's eye line, as MediaPipe does).

Keeping the detector's own crop angle instead (its eye line's offset to the mesh's, measured
at each detection) was tried and measured: it kept the footage's faintest blink (level 1.09
against 0.91) but left the mirrored puppet's turns under threshold in 4 of 20 sessions (peak
0.99 against 1.13): the detector's eye keypoints turn with the head during a turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.vision.types import Box, Detection, Points

# Mesh indices standing in for BlazeFace's six keypoints: eye centres (corner pairs, the
# person's right eye first), nose tip, mouth centre (inner lips), ear tragions (right, left).
KEYPOINT_PAIRS = ((33, 133), (362, 263), (1, 1), (13, 14), (234, 234), (454, 454))
Relation = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Track:
    """What the tracker keeps between frames: the last mesh (frame pixels), the detector's box
    in the mesh box's units at the last detection, its score, and frames since that detection."""

    points: Points
    box_in_mesh: Relation
    score: float
    since_detect: int

    @property
    def detection(self) -> Detection:
        """The last mesh as a detection: where the next frame's mesh crop is taken."""
        return detection_from_mesh(self.points, self.box_in_mesh, self.score)

    def followed(self, points: Points) -> Track:
        """The same track one frame later, with that frame's mesh."""
        return Track(points, self.box_in_mesh, self.score, self.since_detect + 1)


def mesh_box(points: Points) -> Box:
    """Axis-aligned bounding box of the mesh's x, y."""
    xy = points[:, :2]
    return Box(float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()),
               float(xy[:, 1].max()))  # fmt: skip


def relate(box: Box, points: Points) -> Relation:
    """The detector's box in the units of the mesh's own box (0..1 spans the mesh box)."""
    m = mesh_box(points)
    w, h = max(m.width, 1e-6), max(m.height, 1e-6)
    return ((box.x0 - m.x0) / w, (box.y0 - m.y0) / h, (box.x1 - m.x0) / w, (box.y1 - m.y0) / h)


def detection_from_mesh(points: Points, box_in_mesh: Relation, score: float) -> Detection:
    """A detection-shaped summary of a mesh: the box through `box_in_mesh`, mesh keypoints."""
    m = mesh_box(points)
    rx0, ry0, rx1, ry1 = box_in_mesh
    box = Box(m.x0 + rx0 * m.width, m.y0 + ry0 * m.height, m.x0 + rx1 * m.width,
              m.y0 + ry1 * m.height)  # fmt: skip
    xy = points[:, :2]
    keypoints = np.asarray([(xy[a] + xy[b]) / 2.0 for a, b in KEYPOINT_PAIRS], dtype=np.float32)
    return Detection(box, score, keypoints)


def scaled(detection: Detection, sx: float, sy: float) -> Detection:
    """A detection found on a smaller stream (lores) in the main stream's pixels."""
    b = detection.box
    factor = np.asarray([sx, sy], dtype=np.float32)
    return Detection(Box(b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy), detection.score,
                     (detection.keypoints * factor).astype(np.float32))  # fmt: skip


def due(track: Track | None, every_n_frames: int) -> bool:
    """Whether this frame must run the detector: no track, or the periodic re-detection."""
    return track is None or track.since_detect + 1 >= every_n_frames
