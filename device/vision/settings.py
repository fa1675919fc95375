"""Configuration of the on-device models (section [vision])."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from device.settings_base import Section


class VisionSettings(Section):
    models_dir: str = "models"
    embed_variant: str = "sface_fp16"
    num_threads: int = Field(2, ge=1, le=8)
    # BlazeFace model: short_range (faces within ~2 m, the kiosk) or full_range (up to ~5 m).
    detector: Literal["short_range", "full_range"] = "short_range"
    min_detection_score: float = Field(0.6, gt=0, lt=1)
    # Weighted NMS: detections overlapping the best one by more than this IoU are blended into it.
    nms_min_iou: float = Field(0.3, gt=0, lt=1)
    # Below this face_landmark presence probability a face's mesh and pose are dropped.
    min_mesh_presence: float = Field(0.5, ge=0, lt=1)
    # The frame loop's tracker (FaceAnalyzer.track): the detector runs to acquire a face, after
    # the mesh loses it, and every this many frames (a second face entering is seen within this
    # many frames; 1 = detect on every frame).
    redetect_every_n_frames: int = Field(5, ge=1, le=30)
