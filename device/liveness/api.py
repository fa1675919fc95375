"""`LivenessProbe`: the session's one entry into liveness (CONTRIBUTING.md contract).

Timeline of one attempt: `begin(now_s, plan)`; a first phase (flash colours on the screen, or a
short hold-still when the flash is off) measures the person's neutral face and the flash
reflection; then the random actions, one window each (device/liveness/challenge.py: each waits
for the person, re-prompts on confusion). The session calls `prompt(now_s)` to draw the UI,
`observe(...)` for every analysed frame and `verdict(now_s)` until it returns a verdict.

A second face in the frame (`crowded`) pauses the attempt: the probe's own clock stops (every
window and the flash schedule are frozen) and the prompt asks the helper to step out of the
picture; the session's liveness ceiling still runs, so a pause cannot last for ever.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from device.camera.base import Frame
from device.liveness import policy
from device.liveness.antispoof import AntispoofModel
from device.liveness.challenge import POSE_ACTIONS, ChallengeTracker, Timing, plan_actions
from device.liveness.flash import MIN_SAMPLES, RGB, FlashRecorder, plan_colours
from device.liveness.measures import box_iou, face_box, measure
from device.liveness.messages import action_prompt
from device.liveness.passive import PassiveCues, cues, summarise
from device.liveness.plan import AttemptPlan
from device.liveness.planar import PlanarCheck
from device.liveness.settings import LivenessSettings
from device.vision.embed import cosine
from device.vision.types import Box, FaceObservation

Embedding = npt.NDArray[np.float32]
ARROWS = {"turn_left": "left", "turn_right": "right"}


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the UI shows now: a message code, seconds left (None while waiting for the person),
    the screen colour (flash phase). `arrow` left | right for a turn (the person's own side),
    `clear` the clearer cue after a re-prompt (the UI draws the arrow large on the mirrored
    preview), `repeat` how often the prompt was repeated, `paused` a second face is in view."""

    code: str
    countdown_s: float | None
    flash_rgb: RGB | None = None
    step: int = 0
    steps: int = 0
    arrow: str | None = None
    clear: bool = False
    repeat: int = 0
    paused: bool = False


@dataclass(frozen=True, slots=True)
class LivenessVerdict:
    """`outcome` live | spoof | inconclusive; `reasons` codes; `scores` named numbers. The 0..1
    scores where higher means more live: `challenge_done` (fraction of actions seen), `passive`
    (1 - the strongest passive cue over its threshold), `flash_correlation`, `antispoof` (only
    with a model); `liveness` is the weakest of them. Diagnostics: `passive_attack`,
    `moire_ratio`, `frame_sides`, `glare_fraction`, `min_cosine`, `flash_gain`, `stepN_action`
    (peak level of each action, 1.0 = threshold), `frames`. `retry_guidance` re-prompts after
    confusion, `pauses` second-face pauses; `done_well` actions passed at the first prompt,
    `failed` the action the attempt could not complete (for the next attempt's draw)."""

    outcome: str
    reasons: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)
    retry_guidance: int = 0
    pauses: int = 0
    done_well: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


class LivenessProbe:
    """One liveness attempt; owned by the session's core loop (not thread-safe)."""

    def __init__(
        self,
        settings: LivenessSettings,
        rng: np.random.Generator,
        antispoof: AntispoofModel | None = None,
    ) -> None:
        self.settings = settings
        self.rng = rng
        self.antispoof = antispoof if settings.antispoof_model else None
        self.actions: tuple[str, ...] = ()
        self.colours: tuple[RGB, ...] = ()
        self.plan = AttemptPlan()
        self._reset(0.0)

    def _reset(self, now_s: float) -> None:
        self._paused_total = 0.0
        self._paused_since: float | None = None
        self._pauses = 0
        self._start_s = now_s
        self._phase_end_s = now_s
        self._tracker = ChallengeTracker(self.actions, self.settings, now_s)
        self._flash = FlashRecorder(self.colours)
        self._passive: list[PassiveCues] = []
        self._antispoof: list[float] = []
        self._frames = 0
        self._missing = 0
        self._last_box: Box | None = None
        self._anchor: Embedding | None = None
        self._min_cosine = 1.0
        self._continuity: str | None = None
        self._steps_started = False
        self._verdict: LivenessVerdict | None = None
        self._planar = PlanarCheck()

    def begin(self, now_s: float, plan: AttemptPlan | None = None) -> None:
        """Draw this attempt's random actions and flash colours; start the clock."""
        s = self.settings
        self.plan = plan or AttemptPlan()
        self.actions = plan_actions(self.rng, s.actions, s.actions_min, s.actions_max)
        self.colours = plan_colours(self.rng, s.flash_colours) if s.screen_flash else ()
        self._reset(now_s)
        flash_s = len(self.colours) * s.flash_step_s
        self._phase_end_s = now_s + max(s.baseline_s, flash_s)
        holds = [float(self.rng.uniform(s.hold_min_s, s.hold_max_s)) for _ in self.actions]
        timing = Timing.of(s, self.plan.slow)
        self._tracker = ChallengeTracker(self.actions, s, now_s, holds, timing)

    def _clock(self, now_s: float) -> float:
        """The probe's own time: wall time minus every second-face pause."""
        paused = self._paused_total
        if self._paused_since is not None:
            paused += now_s - self._paused_since
        return now_s - paused

    def _pause(self, crowded: bool, now_s: float) -> bool:
        """Start or end a second-face pause; True while paused."""
        if crowded and self._paused_since is None:
            self._paused_since = now_s
            self._pauses += 1
        elif not crowded and self._paused_since is not None:
            self._paused_total += now_s - self._paused_since
            self._paused_since = None
            self._last_box = None  # the person may have moved while the helper was in view
        return self._paused_since is not None

    def flash_colour(self, now_s: float) -> RGB | None:
        """The colour the screen shows at now_s (None outside the flash phase)."""
        index = int((now_s - self._start_s) // self.settings.flash_step_s)
        return self.colours[index] if 0 <= index < len(self.colours) else None

    def prompt(self, now_s: float) -> Prompt | None:
        """The prompt to show now, or None once the verdict is known."""
        if self._verdict is not None:
            return None
        total = len(self.actions)
        t = self._clock(now_s)
        if self._paused_since is not None:
            return Prompt("liveness_second_face", None, None, self._tracker.state.index + 1,
                          total, paused=True)  # fmt: skip
        if not self._steps_started:
            code = "liveness_look_at_screen" if self.colours else "liveness_hold_still"
            return Prompt(code, max(0.0, self._phase_end_s - t), self.flash_colour(t), 0, total)
        action = self._tracker.current_action()
        if action is None:
            return None
        index = self._tracker.state.index
        clear = self._tracker.clear[index]
        if self._tracker.holding():
            code = "liveness_try_again" if clear else "liveness_hold_still"
            return Prompt(code, None, None, index + 1, total, clear=clear)
        countdown = max(0.0, self._tracker.deadline_s() - t)
        if self._tracker.peaked:
            return Prompt("liveness_face_front", countdown, None, index + 1, total)
        repeat = self._tracker.repeats
        # The voice speaks a prompt when its code changes: a repeat alternates the two cues.
        cue = (clear or repeat > 0) != (repeat >= 2 and repeat % 2 == 0)
        return Prompt(action_prompt(action, cue), countdown, None, index + 1, total,
                      arrow=ARROWS.get(action), clear=cue, repeat=repeat)  # fmt: skip

    def observe(
        self,
        frame: Frame,
        face: FaceObservation | None,
        embedding: Embedding | None,
        now_s: float,
        crowded: bool = False,
    ) -> None:
        """Feed one analysed frame: the tracked face (None if no face) and, now and then, its
        embedding; `crowded` when more than one face is in the frame (pauses the attempt)."""
        if self._verdict is not None or self._pause(crowded, now_s):
            return
        now_s = self._clock(now_s)
        self._frames += 1
        self._check_continuity(face, embedding)
        measures = measure(frame.rgb, face) if face is not None else None
        if face is not None and self._frames % self.settings.passive_every_n_frames == 0:
            self._sample_passive(frame, face)
        if not self._steps_started and now_s < self._phase_end_s:
            colour = self.flash_colour(now_s)
            if measures is not None:
                self._tracker.add_baseline(measures)
            if colour is not None and face is not None:
                self._flash.add(colour, frame.rgb, face_box(face))
            return
        if not self._steps_started:
            self._end_first_phase(now_s)
        self._tracker.observe(measures, now_s)
        self._follow_texture(frame, face, now_s)
        self._settle(now_s)

    def _follow_texture(self, frame: Frame, face: FaceObservation | None, now_s: float) -> None:
        if not self.settings.planar_motion:
            return
        action = self._tracker.current_action()
        index = self._tracker.state.index
        asked = action in POSE_ACTIONS and not self._tracker.holding(now_s)
        level = self._tracker.last_levels.get(action or "", 0.0)
        points = face.mesh.points if face is not None and face.mesh is not None else None
        self._planar.observe(index, asked, level, frame.rgb, points)

    def _sample_passive(self, frame: Frame, face: FaceObservation) -> None:
        box = face.detection.box
        self._passive.append(cues(frame.rgb, box))
        if self.antispoof is not None:
            self._antispoof.append(self.antispoof.score(frame.rgb, box))

    def _check_continuity(self, face: FaceObservation | None, embedding: Embedding | None) -> None:
        s = self.settings
        if face is None:
            self._missing += 1
            if self._missing > s.max_missing_frames:
                self._last_box = None  # looking away: the challenge re-prompts, identity stays
            return
        self._missing = 0
        box = face.detection.box
        if self._last_box is not None and box_iou(box, self._last_box) < s.min_track_iou:
            self._continuity = "track_broken"
        self._last_box = box
        if embedding is not None:
            if self._anchor is None:
                self._anchor = embedding
            self._min_cosine = min(self._min_cosine, cosine(self._anchor, embedding))
            if self._min_cosine < s.min_embedding_cosine:
                self._continuity = "identity_changed"

    def _end_first_phase(self, now_s: float) -> None:
        self._steps_started = True
        if not self._tracker.start_steps(now_s):
            self._continuity = self._continuity or "baseline_unstable"
            self._verdict = self._build("timeout", "baseline_unstable", final=True)
            return
        early = self._build("running", None, final=False)
        if early.outcome == "spoof":
            self._verdict = early

    def _settle(self, now_s: float) -> None:
        state = self._tracker.state
        if state.status in ("passed", "failed", "timeout") or self._continuity in (
            policy.SPOOF_CONTINUITY | {"track_broken"}
        ):
            self._verdict = self._build(state.status, state.reason, final=True)

    def verdict(self, now_s: float) -> LivenessVerdict | None:
        """The verdict once known (None while the attempt is still running)."""
        if self._paused_since is not None:
            return self._verdict
        now_s = self._clock(now_s)
        if self._verdict is None and now_s >= self._phase_end_s:
            if not self._steps_started:
                self._end_first_phase(now_s)
            if self._verdict is None:
                self._tracker.observe(None, now_s)
                self._settle(now_s)
        return self._verdict

    def _build(self, status: str, reason: str | None, final: bool) -> LivenessVerdict:
        s = self.settings
        flash = self._flash.result(s.flash_max_lag_frames) if self.colours else None
        passive = summarise(
            self._passive, s.moire_peak_ratio, s.frame_min_sides, s.glare_max_fraction
        )
        model = float(np.mean(self._antispoof)) if self._antispoof else None
        if final:
            self._planar.finish()
        planar = tuple(self._planar.residuals)
        evidence = policy.Evidence(
            status, reason, self._continuity, flash, passive, model, planar_residuals=planar
        )
        thresholds = policy.Thresholds(
            s.flash_min_correlation,
            s.flash_min_gain,
            MIN_SAMPLES,
            self.antispoof.threshold if self.antispoof is not None else 0.5,
            s.planar_max_residual,
        )
        outcome, reasons = policy.decide(evidence, thresholds)
        if not final and outcome != "spoof":
            outcome = "inconclusive"
        failed = self._tracker.failed_action()
        return LivenessVerdict(outcome, reasons, self._scores(evidence),
                               retry_guidance=self._tracker.reprompts, pauses=self._pauses,
                               done_well=self._tracker.done_well(),
                               failed=(failed,) if failed else ())  # fmt: skip

    def _scores(self, evidence: policy.Evidence) -> dict[str, float]:
        done = min(self._tracker.state.index, len(self.actions))
        scores = {
            "challenge_done": done / max(1, len(self.actions)),
            "passive": round(1.0 - evidence.passive.score, 4),
            "passive_attack": round(evidence.passive.score, 4),
            "moire_ratio": round(evidence.passive.moire_ratio, 3),
            "frame_sides": evidence.passive.frame_sides,
            "glare_fraction": round(evidence.passive.glare_fraction, 4),
            "min_cosine": round(self._min_cosine, 4),
            "frames": float(self._frames),
        }
        for index, (action, peak) in enumerate(
            zip(self.actions, self._tracker.levels_peak, strict=True)
        ):
            scores[f"step{index + 1}_{action}"] = round(peak, 3)
        if evidence.flash is not None:
            scores["flash_correlation"] = round(evidence.flash.correlation, 4)
            scores["flash_gain"] = round(evidence.flash.gain, 4)
        if evidence.planar_residuals:
            scores["planar_residual"] = round(min(evidence.planar_residuals), 4)
        if evidence.antispoof_score is not None:
            scores["antispoof"] = round(evidence.antispoof_score, 4)
        live_keys = ("challenge_done", "passive", "flash_correlation", "antispoof")
        scores["liveness"] = max(0.0, min(scores[k] for k in live_keys if k in scores))
        return scores
