"""The frame loop's tracker: the pure mesh-to-detection mapping and FaceAnalyzer.track on real
models (detector runs, lost tracks, a second face entering, the lores stream)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from device.vision.analyzer import FaceAnalyzer
from device.vision.landmarks import face_roi
from device.vision.track import Track, detection_from_mesh, due, relate, scaled
from device.vision.types import Box, Detection, FaceObservation

Image = npt.NDArray[np.uint8]


def _detections(analyzer: FaceAnalyzer) -> int:
    return int(analyzer.status()["detections"])


def test_the_box_relation_gives_the_detectors_box_back(astronaut_face: FaceObservation) -> None:
    assert astronaut_face.mesh is not None
    points, box = astronaut_face.mesh.points, astronaut_face.detection.box
    again = detection_from_mesh(points, relate(box, points), 0.9)
    for a, b in zip((box.x0, box.y0, box.x1, box.y1), (again.box.x0, again.box.y0, again.box.x1,
                                                       again.box.y1), strict=True):  # fmt: skip
        assert abs(a - b) < 1e-3
    # the mesh's keypoints stand near BlazeFace's: the crop keeps its centre and size (its
    # angle follows the mesh's eye line, finer than BlazeFace's eye keypoints)
    here, there = face_roi(astronaut_face.detection), face_roi(again)
    assert abs(here.cx - there.cx) < 1 and abs(here.cy - there.cy) < 1
    assert abs(here.side - there.side) < 1
    assert np.linalg.norm(again.keypoints[:2] - astronaut_face.detection.keypoints[:2],
                          axis=1).max() < 0.1 * box.width  # fmt: skip


def test_scaled_detection_and_redetection_schedule() -> None:
    d = Detection(Box(10, 20, 30, 40), 0.8, np.ones((6, 2), np.float32))
    big = scaled(d, 2.0, 3.0)
    assert (big.box.x0, big.box.y1) == (20, 120) and big.keypoints[0].tolist() == [2.0, 3.0]
    track = Track(np.zeros((468, 3), np.float32), (0, 0, 1, 1), 0.9, 0)
    assert due(None, 5) and not due(track, 5) and due(track, 1)
    assert not due(Track(track.points, track.box_in_mesh, 0.9, 3), 5)
    assert due(Track(track.points, track.box_in_mesh, 0.9, 4), 5)


def test_track_detects_only_to_acquire_and_every_n_frames(
    analyzer: FaceAnalyzer, astronaut: Image
) -> None:
    analyzer.reset_track()
    every = analyzer.redetect_every_n_frames
    assert every > 1
    start = _detections(analyzer)
    frames = [np.roll(astronaut, shift, axis=1) for shift in range(0, 3 * every * 2, 2)]
    seen = [analyzer.track(f) for f in frames]
    assert all(len(faces) == 1 and faces[0].mesh is not None for faces in seen)
    assert _detections(analyzer) - start == -(-len(frames) // every)
    # the followed box moves with the face (2 px a frame) and keeps the detector's scale
    first, last = seen[0][0].detection.box, seen[-1][0].detection.box
    assert abs((last.x0 - first.x0) - 2 * (len(frames) - 1)) < 4
    assert abs(last.width - first.width) < 0.05 * first.width
    # a mesh cropped from the last frame's mesh lands where one cropped from a detection does
    tracked = seen[1][0].mesh
    (detected,) = analyzer.analyze(frames[1])
    assert tracked is not None and detected.mesh is not None
    eyes = np.linalg.norm(detected.mesh.points[33, :2] - detected.mesh.points[263, :2])
    gap = np.linalg.norm(tracked.points[:, :2] - detected.mesh.points[:, :2], axis=1).mean()
    assert gap < 0.03 * eyes


def test_a_lost_face_is_detected_again_at_once(analyzer: FaceAnalyzer, astronaut: Image) -> None:
    analyzer.reset_track()
    assert len(analyzer.track(astronaut)) == 1
    start = _detections(analyzer)
    assert analyzer.track(np.zeros_like(astronaut)) == []  # mesh lost it: detector, no face
    assert _detections(analyzer) == start + 1
    assert len(analyzer.track(astronaut)) == 1  # acquired again by the detector
    assert _detections(analyzer) == start + 2


def test_a_second_face_entering_is_seen_within_n_frames(
    analyzer: FaceAnalyzer, astronaut: Image
) -> None:
    crop = np.ascontiguousarray(astronaut[20:270, 100:350])
    alone = np.hstack([crop, np.zeros_like(crop)])
    pair = np.hstack([crop, np.ascontiguousarray(crop[:, ::-1])])
    analyzer.reset_track()
    assert len(analyzer.track(alone)) == 1
    counts = [len(analyzer.track(pair)) for _ in range(analyzer.redetect_every_n_frames)]
    assert counts[-1] == 2 and counts.index(2) < analyzer.redetect_every_n_frames
    assert len(analyzer.track(pair)) == 2  # no track while two faces are there: detect each frame


def test_detection_on_the_lores_stream(analyzer: FaceAnalyzer, astronaut: Image) -> None:
    main = np.ascontiguousarray(cv2.resize(astronaut, (640, 640)))
    lores = np.ascontiguousarray(cv2.resize(astronaut, (320, 320), interpolation=cv2.INTER_AREA))
    analyzer.reset_track()
    (on_main,) = analyzer.track(main)
    analyzer.reset_track()
    (on_lores,) = analyzer.track(main, lores=lores)
    a, b = on_main.detection.box, on_lores.detection.box
    assert max(abs(a.x0 - b.x0), abs(a.y0 - b.y0), abs(a.x1 - b.x1)) < 0.05 * a.width
    assert on_lores.mesh is not None and on_main.mesh is not None
    assert np.abs(on_lores.mesh.points[:, :2] - on_main.mesh.points[:, :2]).mean() < 3.0


def test_while_an_eye_is_measured_every_crop_comes_from_a_detection(
    analyzer: FaceAnalyzer, astronaut: Image
) -> None:
    analyzer.reset_track()
    start = _detections(analyzer)
    faces = [analyzer.track(astronaut, with_iris=True) for _ in range(3)]
    assert _detections(analyzer) - start == 3
    (still,) = analyzer.analyze(astronaut, with_iris=True)
    assert faces[-1][0].mesh is not None and still.mesh is not None
    assert np.array_equal(faces[-1][0].mesh.points, still.mesh.points)
    # and the pose is the plain mesh's either way (baseline and steps read it alike)
    (plain,) = analyzer.analyze(astronaut)
    assert still.pose == plain.pose
