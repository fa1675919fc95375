"""Verification metrics over pair scores (pure functions, no I/O).

Convention everywhere: a pair is accepted when `score >= threshold`; `same` is True for a genuine
pair (same person) and False for an impostor pair. FAR is the fraction of impostor pairs accepted,
TAR the fraction of genuine pairs accepted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]
Labels = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """A threshold with the rates it gives on the pairs it was calibrated on."""

    threshold: float
    far: float
    tar: float


@dataclass(frozen=True, slots=True)
class FoldAccuracy:
    """n-fold cross-validated accuracy: per fold, the threshold chosen on the other folds."""

    mean: float
    std: float
    thresholds: tuple[float, ...]
    per_fold: tuple[float, ...]


def _split(scores: Scores, same: Labels) -> tuple[Scores, Scores]:
    scores = np.asarray(scores, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    if scores.shape != same.shape or scores.ndim != 1:
        raise ValueError("scores and labels must be 1-D arrays of the same length")
    return scores[same], scores[~same]


def accuracy_at(scores: Scores, same: Labels, threshold: float) -> float:
    """Fraction of pairs decided correctly at `threshold`."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        raise ValueError("no pairs")
    return float(np.mean((scores >= threshold) == np.asarray(same, dtype=bool)))


def candidate_thresholds(scores: Scores) -> Scores:
    """Every distinct score plus one above the largest: each distinct decision is reachable."""
    unique = np.unique(np.asarray(scores, dtype=np.float64))
    if unique.size == 0:
        raise ValueError("no pairs")
    return np.append(unique, np.nextafter(unique[-1], math.inf))


def best_threshold(scores: Scores, same: Labels) -> float:
    """The threshold with the highest accuracy; among ties, the midpoint of the best run."""
    scores = np.asarray(scores, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    candidates = candidate_thresholds(scores)
    order = np.argsort(scores)
    sorted_scores, sorted_same = scores[order], same[order]
    # Correct decisions at threshold t: genuine with score >= t plus impostors with score < t.
    below = np.searchsorted(sorted_scores, candidates, side="left")
    genuine_below = np.concatenate(([0], np.cumsum(sorted_same)))[below]
    impostor_below = below - genuine_below
    correct = (same.sum() - genuine_below) + impostor_below
    best = np.flatnonzero(correct == correct.max())
    # Accuracy at candidate j holds for every t in (candidate[j-1], candidate[j]]: take the middle
    # of the first run of best candidates.
    first = int(best[0])
    last = first
    while last + 1 < len(candidates) and correct[last + 1] == correct[first]:
        last += 1
    high = candidates[last]
    low = candidates[first - 1] if first > 0 else candidates[0] - 1.0
    return float((low + high) / 2.0)


def kfold_accuracy(scores: Scores, same: Labels, folds: npt.NDArray[np.int_]) -> FoldAccuracy:
    """Accuracy with the threshold chosen on all folds but one and tested on that one."""
    scores = np.asarray(scores, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    folds = np.asarray(folds)
    results: list[float] = []
    thresholds: list[float] = []
    for fold in np.unique(folds):
        test = folds == fold
        if test.all():
            raise ValueError("k-fold accuracy needs at least two folds")
        threshold = best_threshold(scores[~test], same[~test])
        thresholds.append(threshold)
        results.append(accuracy_at(scores[test], same[test], threshold))
    return FoldAccuracy(
        float(np.mean(results)), float(np.std(results)), tuple(thresholds), tuple(results)
    )


def threshold_at_far(scores: Scores, same: Labels, far: float) -> OperatingPoint:
    """The lowest threshold whose FAR on these pairs does not exceed `far`."""
    genuine, impostor = _split(scores, same)
    if impostor.size == 0 or genuine.size == 0:
        raise ValueError("TAR at FAR needs genuine and impostor pairs")
    if not 0.0 <= far < 1.0:
        raise ValueError(f"far must be in [0, 1), got {far}")
    allowed = math.floor(far * impostor.size + 1e-9)
    ranked = np.sort(impostor)[::-1]
    # Reject the (allowed+1)-th highest impostor score and everything below it.
    threshold = float(np.nextafter(ranked[allowed], math.inf))
    return OperatingPoint(
        threshold,
        float(np.mean(impostor >= threshold)),
        float(np.mean(genuine >= threshold)),
    )


def threshold_at_tar(scores: Scores, same: Labels, tar: float) -> OperatingPoint:
    """The highest threshold whose TAR on these pairs is still at least `tar` (the ceiling above
    which more than 1 - tar of genuine people would be refused)."""
    genuine, impostor = _split(scores, same)
    if impostor.size == 0 or genuine.size == 0:
        raise ValueError("a threshold at TAR needs genuine and impostor pairs")
    if not 0.0 < tar <= 1.0:
        raise ValueError(f"tar must be in (0, 1], got {tar}")
    keep = math.ceil(tar * genuine.size - 1e-9)
    threshold = float(np.sort(genuine)[::-1][keep - 1])
    return OperatingPoint(
        threshold,
        float(np.mean(impostor >= threshold)),
        float(np.mean(genuine >= threshold)),
    )


def roc_curve(scores: Scores, same: Labels) -> tuple[Scores, Scores, Scores]:
    """(far, tar, thresholds) for every distinct threshold, from the highest threshold down."""
    genuine, impostor = _split(scores, same)
    if impostor.size == 0 or genuine.size == 0:
        raise ValueError("a ROC curve needs genuine and impostor pairs")
    thresholds = candidate_thresholds(np.concatenate([genuine, impostor]))[::-1]
    g_sorted, i_sorted = np.sort(genuine), np.sort(impostor)
    tar = 1.0 - np.searchsorted(g_sorted, thresholds, side="left") / genuine.size
    far = 1.0 - np.searchsorted(i_sorted, thresholds, side="left") / impostor.size
    return far.astype(np.float64), tar.astype(np.float64), thresholds
