"""The session's decisions that are not phase changes, as pure functions beside the machine
(device/session/machine.py): when a match is accepted, which liveness score a record carries,
and what the screen shows for a machine `Show` or a liveness prompt. No I/O, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from device.liveness.api import LivenessVerdict, Prompt
from device.match.matcher import MatchResult
from device.session.machine import Show
from device.ui.views import make_view

Messages = Mapping[str, tuple[str, str]]
LIVENESS_OUTCOMES = frozenset({"live", "spoof", "inconclusive"})


@dataclass(frozen=True, slots=True)
class Acceptance:
    accepted: bool
    score: float


def accept(capture: MatchResult, during_liveness: MatchResult | None) -> Acceptance:
    """The capture frames must match the reference, and so must the frames that did the
    liveness actions (else a photo held up for the capture and a live stranger for the actions
    would pass); the score recorded is the lower of the two."""
    if during_liveness is None:
        return Acceptance(capture.accepted, capture.score)
    return Acceptance(capture.accepted and during_liveness.accepted,
                      min(capture.score, during_liveness.score))


def liveness_score(verdict: LivenessVerdict) -> float | None:
    """The probe's own 0..1 liveness score (the weakest of its cues), None if it gave none."""
    score = verdict.scores.get("liveness")
    return None if score is None else float(score)


def liveness_outcome(verdict: LivenessVerdict) -> str:
    """live, spoof, or inconclusive for anything else."""
    return verdict.outcome if verdict.outcome in LIVENESS_OUTCOMES else "inconclusive"


def show_view(show: Show, messages: Messages, slow: bool = False) -> dict[str, Any]:
    """The screen view of a machine Show effect, texts from the catalogue; `slow` asks the UI
    for slower, louder speech (device/session/machine.py is_slow)."""
    zh, en = messages.get(show.code, (show.code, show.code))
    result = None
    if show.decision is not None:
        result = {"decision": show.decision, "reasons": list(show.reasons)}
    countdown = None if show.countdown_s is None else round(show.countdown_s, 1)
    return make_view(show.state, show.code, zh, en, countdown_s=countdown,
                     progress=show.progress, result=result, slow=slow)


def prompt_key(prompt: Prompt) -> tuple[str, tuple[int, ...] | None, int, int]:
    """What makes a prompt worth a new view: its code, colour, whole seconds left and how
    often it was repeated."""
    flash = tuple(prompt.flash_rgb) if prompt.flash_rgb else None
    seconds = -1 if prompt.countdown_s is None else int(prompt.countdown_s)
    return prompt.code, flash, seconds, prompt.repeat


def prompt_view(prompt: Prompt, messages: Messages, slow: bool = False) -> dict[str, Any]:
    """The screen view of a liveness prompt: a flash colour, or an action to do. Its `guide`
    tells the page how to show the action: `arrow` (left | right, the person's own side),
    `mirror_arrow` (the clearer cue: a large arrow drawn on the mirrored preview, where the
    person's left is on the left), `repeat` (the prompt said again) and `paused`."""
    zh, en = messages.get(prompt.code, (prompt.code, prompt.code))
    flash = list(prompt.flash_rgb) if prompt.flash_rgb else None
    guide = {"arrow": prompt.arrow, "mirror_arrow": prompt.clear and prompt.arrow is not None,
             "clear": prompt.clear, "repeat": prompt.repeat, "paused": prompt.paused}
    return make_view("flash" if flash else "challenge", prompt.code, zh, en,
                     countdown_s=prompt.countdown_s, flash_rgb=flash, slow=slow,
                     guide=None if flash else guide)  # fmt: skip
