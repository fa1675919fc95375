"""Configuration of the verification session, quality gates and matching (section [session]).

The quality thresholds were measured on lfw-dev (3,811 LFW images, 250x250, deep-funneled) and on
degraded copies of them; see device/vision/quality.py for the measurements behind each default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from device.settings_base import Section


class QualitySettings(Section):
    """[session.quality]: one threshold per gate (device/vision/quality.py)."""

    # lfw-dev figures (device/session/quality_eval.py): "good" = the single-face images of every
    # 2nd-4th file (p1/p99 = 1st and 99th percentiles), then degraded copies of the same images.
    # Box width: good p1 90 px (250 px images); scene shrunk to 35 %: p99 50 px.
    min_face_px: float = Field(80.0, ge=16, le=2048)  # detection box width, frame pixels
    max_face_ratio: float = Field(0.8, gt=0.1, le=1.0)  # box width / frame width
    oval_width_ratio: float = Field(0.55, gt=0.1, le=1.0)  # guide oval width / frame width
    oval_height_ratio: float = Field(0.8, gt=0.1, le=1.0)  # guide oval height / frame height
    # Centre offset in oval radii: good p99 0.38; face moved to the corner: p1 0.86.
    max_centre_offset: float = Field(0.5, gt=0, le=2.0)
    # Mean face Y (BT.601): good p1 79, p99 183; darkened x0.22: max 40; brightened: p1 211.
    min_luma: float = Field(55.0, ge=0, le=255)
    max_luma: float = Field(205.0, ge=0, le=255)
    # Background Y minus face Y: good p99 86; face x0.5 before a white window: p1 152.
    max_backlight_delta: float = Field(100.0, ge=0, le=255)
    # Laplacian variance on the aligned crop: good p1 512, median 2,420; Gaussian blur with
    # sigma 3.5 % of the face width: median 43, p99 110.
    min_sharpness: float = Field(150.0, ge=0, le=10000)
    # Pose: LFW itself holds many turned heads (|yaw| > 25 on 6.7 %); rotated by 30: roll 28-37.
    max_yaw_deg: float = Field(25.0, gt=0, le=90)
    max_pitch_deg: float = Field(20.0, gt=0, le=90)
    max_roll_deg: float = Field(15.0, gt=0, le=90)
    # Larger eye's EAR: good p1 0.21; the lowest LFW values (0.16-0.18) are squeezed-shut eyes.
    min_eye_aspect_ratio: float = Field(0.18, ge=0, le=1)
    # Sunglasses: eye Y / cheek Y and eye Y std; fires on 0.9 % of good (dark-rimmed glasses,
    # deep shadows) and on 98.5 % of painted lenses.
    max_eye_darkness: float = Field(0.3, ge=0, le=2)
    min_eye_texture: float = Field(20.0, ge=0, le=255)
    # Mask: lower-face (Cr, Cb) distance to the cheeks: good p99 16, painted mask p1 38;
    # fires on 0.8 % of good, 99.7 % of masks.
    max_mask_colour_distance: float = Field(26.0, ge=0, le=255)
    max_mask_luma_ratio: float = Field(1.45, ge=1, le=10)  # lower-face Y / cheek Y
    # Hat: forehead (Cr, Cb) distance to the cheeks, forehead Y / cheek Y; fires on 4.3 % of
    # good (the top ones all wear caps or hats), 98 % of painted hats.
    max_hat_colour_distance: float = Field(30.0, ge=0, le=255)
    min_hat_luma_ratio: float = Field(0.35, ge=0, le=1)
    # Mean landmark step per frame / eye distance; not measured on video (no face video is
    # available): 0.06 is 4 px per frame at a 70 px eye distance.
    max_motion_ratio: float = Field(0.06, gt=0, le=1)
    motion_frames: int = Field(4, ge=2, le=30)

    @model_validator(mode="after")
    def _consistent(self) -> QualitySettings:
        if self.min_luma >= self.max_luma:
            raise ValueError("min_luma must be below max_luma")
        return self


class SessionSettings(Section):
    max_attempts: int = Field(3, ge=1, le=10)
    # A new card read of the same person within this window continues the attempt count.
    attempt_window_s: float = Field(1800.0, ge=0, le=86400)
    identify_timeout_s: float = Field(60.0, gt=0, le=600)
    capture_timeout_s: float = Field(30.0, gt=0, le=600)
    # The liveness ceiling: the challenge waits for the person (ready time, windows extended
    # while they move, re-prompts, second-face pauses) but never longer than this. Slow pace
    # ("slow" here, or automatically for any attempt after a failed one in the same visit) has
    # longer windows and ready time ([liveness] slow_*), slower speech and this ceiling.
    liveness_timeout_s: float = Field(45.0, gt=0, le=600)
    slow_liveness_timeout_s: float = Field(90.0, gt=0, le=900)
    pace: Literal["standard", "slow"] = "standard"
    decided_hold_s: float = Field(5.0, ge=0, le=120)
    # Good frames needed before capture ends, and how many of the best ones are matched.
    capture_frames: int = Field(5, ge=1, le=60)
    best_frames: int = Field(3, ge=1, le=10)
    fusion: Literal["mean", "max"] = "mean"
    # None: the embed model's calibrated threshold from models/manifest.json plus match_margin.
    # For sface_fp16 that floor, 0.36945, is FAR 1e-3 over all 7,255,541 cross-identity pairs of
    # lfw-dev (95 % CI 0.3674-0.3713 by identity subsampling; TAR 98.94 % of its 4,414 genuine
    # pairs); the default 0.37945 accepts fewer impostors still (scripts/far_thresholds.py).
    match_threshold: float | None = Field(None, gt=-1, lt=1)
    match_margin: float = Field(0.01, ge=0, le=0.2)
    # A threshold outside the embed model's manifest range (device/match/thresholds.py) is a
    # start-up error unless this is true (set only through an admin's thresholds.set override).
    match_threshold_override: bool = False
    # After a confident pass (match well above the threshold, liveness live, a full set of
    # gated frames) the stored reference absorbs the face with a bounded weight; the enrolment
    # is kept (device/match/adapt.py). lfw-dev ageing protocol: docs/privacy.md.
    reference_adaptation: bool = False
    templates_db: str = "templates.sqlite3"
    templates_key: str = "templates.key"
    templates_salt: str = "templates.salt"
    quality: QualitySettings = QualitySettings()

    @model_validator(mode="after")
    def _consistent(self) -> SessionSettings:
        if self.slow_liveness_timeout_s < self.liveness_timeout_s:
            raise ValueError("slow_liveness_timeout_s must not be below liveness_timeout_s")
        if self.best_frames > self.capture_frames:
            raise ValueError("best_frames cannot exceed capture_frames")
        return self
