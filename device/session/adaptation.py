"""After a pass: does the reference absorb this session's face, and into what
(`[session] reference_adaptation`; the policy and its bound are device/match/adapt.py's).

Pure: the runner (device/session/runner.py) gathers the evidence while it matches and, for a
pass, stores what `updated_reference` returns through the template store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.match.adapt import AdaptPolicy, PassEvidence, adapt, eligible
from device.match.templates import Reference
from device.vision.types import Vector


@dataclass(frozen=True, slots=True)
class SeenAtPass:
    """What the match saw: the capture frames' embeddings, the session's match score (against
    the reference used, adapted or not), the same faces' score against the enrolment, whether
    liveness said live, and whether the full set of best frames passed every quality gate."""

    probes: tuple[Vector, ...]
    score: float
    original_score: float
    live: bool
    quality_ok: bool


def updated_reference(reference: Reference, seen: SeenAtPass, threshold: float,
                      policy: AdaptPolicy) -> Vector | None:  # fmt: skip
    """The new adapted reference after a pass, or None when this pass is not a confident one
    (device.match.adapt.eligible) or is against a card photo rather than an enrolment."""
    evidence = PassEvidence("pass", seen.score, seen.original_score, threshold, seen.live,
                            seen.quality_ok)  # fmt: skip
    if reference.source == "card_photo" or not seen.probes or not eligible(evidence, policy):
        return None
    units = [np.asarray(p, np.float64) / float(np.linalg.norm(p)) for p in seen.probes]
    probe = np.asarray(np.mean(units, axis=0), np.float32)
    return adapt(reference.enrolment(), reference.embedding, probe, policy)
