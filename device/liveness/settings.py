"""Configuration of the liveness checks (section [liveness])."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from device.settings_base import Section

Action = Literal["blink", "turn_left", "turn_right", "nod", "open_mouth"]
ALL_ACTIONS: list[Action] = ["blink", "turn_left", "turn_right", "nod", "open_mouth"]


class LivenessSettings(Section):
    enabled: bool = True
    # Active challenge: 2-3 random actions from `actions`, each within its own time window.
    actions: list[Action] = Field(default_factory=lambda: list(ALL_ACTIONS), min_length=2)
    actions_min: int = Field(2, ge=1, le=5)
    actions_max: int = Field(3, ge=1, le=5)
    # Each action's window opens when the person is ready (the face steady at neutral for
    # `ready_s` plus the random hold) and lasts `action_timeout_s`; movement towards the goal
    # extends it by `extend_s` at a time, by at most `max_extend_s` in all. Slow pace (session
    # pace "slow", or any attempt after a failed one) uses the slow_* values.
    action_timeout_s: float = Field(5.0, gt=0, le=60)
    slow_action_timeout_s: float = Field(9.0, gt=0, le=120)
    ready_s: float = Field(0.5, ge=0, le=10)
    slow_ready_s: float = Field(1.2, ge=0, le=20)
    extend_s: float = Field(2.0, ge=0, le=30)
    max_extend_s: float = Field(4.0, ge=0, le=60)
    # The prompt is shown (and spoken) again after this long without movement towards the goal.
    repeat_prompt_s: float = Field(3.0, gt=0, le=30)
    # Confusion (a wrong or mirrored movement, a late or partial one, looking away, an answer
    # before the prompt) re-prompts with a clearer cue, at most this often per attempt; then the
    # attempt ends as incomplete (never as a spoof). Each one weakens the challenge against a
    # replay (docs/liveness-evidence.md, "How random the challenge is").
    max_reprompts: int = Field(2, ge=0, le=5)
    # The face missing this long in an action window counts as looking away.
    away_s: float = Field(1.0, gt=0, le=10)
    # An answer faster than this after the prompt is not counted (re-prompted): no human
    # reacts so fast, but an eager person may move before the prompt; it is not attack evidence.
    min_reaction_s: float = Field(0.15, ge=0, le=2)
    # Random pause before each prompt: a recording acts at the wrong moments.
    hold_min_s: float = Field(0.4, ge=0, le=5)
    hold_max_s: float = Field(1.6, ge=0, le=10)
    baseline_s: float = Field(1.2, gt=0, le=10)
    # Relative changes from the person's own baseline that count as the action.
    turn_yaw_deg: float = Field(12.0, gt=0, le=60)
    nod_pitch_deg: float = Field(10.0, gt=0, le=60)
    mouth_open_delta: float = Field(0.08, gt=0, le=1)
    # 0.2: real blinks seen at 15 fps often show only a half-closed frame (the smallest drop
    # measured on the labelled footage was 0.24), while open eyes never dropped more than 0.17.
    blink_ear_drop_ratio: float = Field(0.2, gt=0, lt=1)
    # A different deliberate action this strong (times its own threshold) is a wrong action:
    # re-prompted (device/liveness/challenge.py), never a spoof.
    wrong_action_factor: float = Field(1.4, ge=1, le=5)
    # Continuity: same face track and identity throughout.
    # About SFace's own match threshold at FAR 1e-3 (0.33 float): a turned head lowers the
    # cosine to the frontal anchor, another person drops it below this.
    min_embedding_cosine: float = Field(0.35, gt=-1, lt=1)
    min_track_iou: float = Field(0.25, gt=0, lt=1)
    max_missing_frames: int = Field(5, ge=0, le=100)
    # Screen flash (needs a screen facing the person).
    screen_flash: bool = True
    flash_colours: int = Field(6, ge=3, le=20)
    flash_step_s: float = Field(0.3, gt=0.05, le=2)
    flash_max_lag_frames: int = Field(2, ge=0, le=10)
    flash_min_correlation: float = Field(0.6, gt=0, lt=1)
    flash_min_gain: float = Field(0.03, gt=0, lt=1)
    # Passive cues: each one is a spoof reason at its own threshold.
    moire_peak_ratio: float = Field(120.0, gt=1, le=1000)
    frame_min_sides: int = Field(4, ge=2, le=4)
    glare_max_fraction: float = Field(0.08, gt=0, lt=1)
    passive_every_n_frames: int = Field(2, ge=1, le=30)
    # 3-D check (planar.py): a head movement whose face texture moves by one homography (its
    # residual below this share of the affine residual) is a flat print or screen. Measured at
    # 640x480: real turns and nods 0.80-0.99, planar prints turned 15-60 degrees 0.14-0.44.
    planar_motion: bool = True
    planar_max_residual: float = Field(0.6, gt=0, lt=1)
    # Optional antispoof model (manifest task "antispoof"); its own threshold is in the manifest.
    antispoof_model: bool = True

    @model_validator(mode="after")
    def _check_counts(self) -> LivenessSettings:
        if self.actions_min > self.actions_max:
            raise ValueError("actions_min must not exceed actions_max")
        if self.hold_min_s > self.hold_max_s:
            raise ValueError("hold_min_s must not exceed hold_max_s")
        if self.slow_action_timeout_s < self.action_timeout_s:
            raise ValueError("slow_action_timeout_s must not be below action_timeout_s")
        if self.slow_ready_s < self.ready_s:
            raise ValueError("slow_ready_s must not be below ready_s")
        if len(set(self.actions)) < 2:
            raise ValueError("actions needs at least two different actions")
        return self
