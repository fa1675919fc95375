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
