"""Per-frame face analysis: detection, then face mesh, iris (on request) and head pose per face.

`analyze` looks at one image on its own (enrolment, stills, evaluations of single images);
`track` is the frame loop's (the session runner's, so the daemon's, `faceterm verify`'s and every
closed-loop evaluation's): it follows the face with the mesh and runs the detector only when
device/vision/track.py says so.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from device.vision.detect import LAYOUTS, FaceDetector
from device.vision.geometry import head_pose
from device.vision.landmarks import FaceLandmarker, IrisLandmarker, refine_eyes
from device.vision.models import Manifest
from device.vision.settings import VisionSettings
from device.vision.track import Track, detection_from_mesh, due, relate, scaled
from device.vision.types import Detection, FaceObservation, Image


def resolve_models_dir(settings: VisionSettings, base_dir: Path | None = None) -> Path:
    """settings.models_dir, relative to base_dir (default: the working directory)."""
    path = Path(settings.models_dir)
    return path if path.is_absolute() or base_dir is None else base_dir / path


class FaceAnalyzer:
    """Owns the detector, mesh and iris interpreters; use from one thread only.

    Build it with `FaceAnalyzer.load(settings)`, which verifies every model's sha256 against the
    manifest before opening it (ModelError otherwise). The constructor does no I/O.
    """

    def __init__(
        self,
        detector: FaceDetector,
        landmarker: FaceLandmarker,
        iris: IrisLandmarker,
        model_ids: dict[str, str],
        min_mesh_presence: float = 0.5,
        redetect_every_n_frames: int = 5,
    ) -> None:
        self.detector = detector
        self.landmarker = landmarker
        self.iris = iris
        self.model_ids = dict(model_ids)
        self.min_mesh_presence = min_mesh_presence
        self.redetect_every_n_frames = redetect_every_n_frames
        self._track: Track | None = None
        self._frames = 0
        self._faces = 0
        self._detections = 0
        self._last_ms: dict[str, float] = {}

    @classmethod
    def load(cls, settings: VisionSettings, base_dir: Path | None = None) -> FaceAnalyzer:
        """Verify and open the detector (settings.detector variant), mesh and iris models."""
        manifest = Manifest.load(resolve_models_dir(settings, base_dir))
        entries = {
            "detect": manifest.find(task="detect", variant=settings.detector),
            "landmarks": manifest.find(task="landmarks"),
            "iris": manifest.find(task="iris"),
        }
        models = {task: manifest.open(e, settings.num_threads) for task, e in entries.items()}
        detector = FaceDetector(
            models["detect"],
            LAYOUTS[settings.detector],
            settings.min_detection_score,
            settings.nms_min_iou,
        )
        return cls(
            detector,
            FaceLandmarker(models["landmarks"]),
            IrisLandmarker(models["iris"]),
            {task: e.model_id for task, e in entries.items()},
            settings.min_mesh_presence,
            settings.redetect_every_n_frames,
        )

    def analyze(
        self, rgb: Image, with_iris: bool = False, max_faces: int = 2
    ) -> list[FaceObservation]:
        """Faces in an HxWx3 uint8 RGB frame, best detection first (at most max_faces get a mesh
        and pose; mesh and pose are None when the mesh model finds no face in the crop).

        with_iris=True adds the irises and replaces the mesh's 16 eye-contour points per eye by
        the iris model's (MediaPipe's "refined" mesh): eye aspect ratios then follow the lids;
        without it the plain mesh barely moves on closed eyes. About +2-3 ms per face."""
        started = time.perf_counter()
        rgb = np.ascontiguousarray(rgb)  # views such as rgb[:, ::-1] are fine
        detections = self._detect(rgb, None)[: max(0, max_faces)]
        detected = time.perf_counter()
        observations = [self._observe(rgb, d, with_iris) for d in detections]
        self._count(started, detected, observations)
        return observations

    def reset_track(self) -> None:
        """Forget the followed face: the next `track` call detects (a new session)."""
        self._track = None

    def track(
        self, rgb: Image, with_iris: bool = False, lores: Image | None = None
    ) -> list[FaceObservation]:
        """The faces of the next frame of a sequence (at most two: two faces are no face).

        While one face is followed, its mesh is cropped from the last frame's mesh; the detector
        runs on `lores` (a smaller copy of the same view, e.g. picamera2's lores stream) or on
        `rgb`, only to acquire a face, after the mesh lost it, or every
        `redetect_every_n_frames` frames. Call `reset_track` between sequences.

        with_iris=True (an eye is being measured) crops every frame's mesh from a detection, as
        `analyze` does: the blink threshold was set on such crops, and on crops from the last
        mesh the faintest labelled blink of the footage read 0.91 of it instead of 1.19."""
        started = time.perf_counter()
        rgb = np.ascontiguousarray(rgb)
        track = self._track
        if track is not None and not with_iris and not due(track, self.redetect_every_n_frames):
            face = self._follow(rgb, track, with_iris)
            if face is not None:
                self._count(started, started, [face])
                return [face]
        detections = self._detect(rgb, lores)[:2]
        detected = time.perf_counter()
        faces = [self._observe(rgb, d, with_iris) for d in detections]
        self._track = None
        if len(faces) == 1 and faces[0].mesh is not None:
            points = faces[0].mesh.points
            self._track = Track(points, relate(faces[0].detection.box, points),
                                faces[0].detection.score, 0)  # fmt: skip
        self._count(started, detected, faces)
        return faces

    def _follow(self, rgb: Image, track: Track, with_iris: bool) -> FaceObservation | None:
        guess = track.detection
        face = self._observe(rgb, guess, with_iris)
        if face.mesh is None:
            self._track = None
            return None
        here = detection_from_mesh(face.mesh.points, track.box_in_mesh, track.score)
        self._track = track.followed(face.mesh.points)
        return FaceObservation(detection=here, mesh=face.mesh, pose=face.pose)

    def _detect(self, rgb: Image, lores: Image | None) -> list[Detection]:
        self._detections += 1
        if lores is None:
            return self.detector.detect(rgb)
        found = self.detector.detect(np.ascontiguousarray(lores))
        sx, sy = rgb.shape[1] / lores.shape[1], rgb.shape[0] / lores.shape[0]
        return [scaled(d, sx, sy) for d in found]

    def _count(self, started: float, detected: float, faces: list[FaceObservation]) -> None:
        done = time.perf_counter()
        self._frames += 1
        self._faces += len(faces)
        self._last_ms = {
            "detect": (detected - started) * 1000.0,
            "mesh": (done - detected) * 1000.0,
            "total": (done - started) * 1000.0,
        }

    def _observe(self, rgb: Image, detection: Detection, with_iris: bool) -> FaceObservation:
        mesh = self.landmarker.run(rgb, detection)
        if mesh.presence < self.min_mesh_presence:
            return FaceObservation(detection=detection, mesh=None, pose=None)
        pose = head_pose(mesh.points)  # the plain mesh's: the same with or without the iris
        if with_iris:
            iris, contours = self.iris.run_with_contours(rgb, mesh.points)
            mesh = dataclasses.replace(mesh, points=refine_eyes(mesh.points, contours), iris=iris)
        return FaceObservation(detection=detection, mesh=mesh, pose=pose)

    def status(self) -> dict[str, Any]:
        """Counters and the last frame's stage timings (ms) for telemetry."""
        return {
            "frames": self._frames,
            "faces": self._faces,
            "detections": self._detections,
            "last_ms": {k: round(v, 2) for k, v in self._last_ms.items()},
            "models": dict(self.model_ids),
        }
