"""Verification metrics on synthetic scores with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from device.eval import metrics


def test_accuracy_at_threshold() -> None:
    scores = np.array([0.1, 0.2, 0.6, 0.8, 0.9])
    same = np.array([False, False, False, True, True])
    assert metrics.accuracy_at(scores, same, 0.5) == pytest.approx(4 / 5)
    assert metrics.accuracy_at(scores, same, 0.7) == pytest.approx(1.0)
    assert metrics.accuracy_at(scores, same, 0.8) == pytest.approx(1.0)  # >= accepts 0.8
    assert metrics.accuracy_at(scores, same, 0.85) == pytest.approx(4 / 5)


def test_best_threshold_is_the_middle_of_the_gap() -> None:
    scores = np.array([0.1, 0.2, 0.6, 0.8, 0.9])
    same = np.array([False, False, False, True, True])
    assert metrics.best_threshold(scores, same) == pytest.approx(0.7)


def test_best_threshold_with_overlap() -> None:
    # One impostor (0.7) above one genuine (0.65): best is to reject both or accept both... the
    # best accuracy (4/6) is reached in the first run at (0.3, 0.65].
    scores = np.array([0.2, 0.3, 0.7, 0.65, 0.9, 0.95])
    same = np.array([False, False, False, True, True, True])
    threshold = metrics.best_threshold(scores, same)
    assert threshold == pytest.approx(0.475)
    assert metrics.accuracy_at(scores, same, threshold) == pytest.approx(5 / 6)


def test_kfold_accuracy_known_answer() -> None:
    # Folds 0 and 1 separate at 0.5; fold 2 has one genuine pair below any chosen threshold.
    scores = np.array([0.1, 0.9, 0.2, 0.8, 0.3, 0.4])
    same = np.array([False, True, False, True, False, True])
    folds = np.array([0, 0, 1, 1, 2, 2])
    result = metrics.kfold_accuracy(scores, same, folds)
    assert result.per_fold[0] == pytest.approx(1.0)
    assert result.per_fold[1] == pytest.approx(1.0)
    assert result.per_fold[2] == pytest.approx(0.5)  # threshold from folds 0+1 lies in (0.2, 0.8]
    assert result.mean == pytest.approx(2.5 / 3)
    assert len(result.thresholds) == 3
    with pytest.raises(ValueError, match="two folds"):
        metrics.kfold_accuracy(scores, same, np.zeros(6, dtype=int))


def test_tar_at_far_known_answer() -> None:
    impostor = np.arange(1000) / 1000.0  # 0.000 .. 0.999
    genuine = np.repeat([0.9995, 0.995, 0.5], [10, 10, 80])
    scores = np.concatenate([impostor, genuine])
    same = np.concatenate([np.zeros(1000, bool), np.ones(100, bool)])
    at_1e2 = metrics.threshold_at_far(scores, same, 1e-2)
    # 10 impostors (0.990..0.999) may pass: the threshold sits just above 0.989.
    assert at_1e2.far == pytest.approx(0.01)
    assert 0.989 < at_1e2.threshold < 0.9891
    assert at_1e2.tar == pytest.approx(0.2)  # 0.9995 and 0.995 pass
    at_1e3 = metrics.threshold_at_far(scores, same, 1e-3)
    assert at_1e3.far == pytest.approx(0.001)
    assert 0.998 < at_1e3.threshold < 0.9981
    assert at_1e3.tar == pytest.approx(0.1)  # only 0.9995 passes
    strict = metrics.threshold_at_far(scores, same, 0.0)
    assert strict.far == 0.0 and strict.threshold > 0.999


def test_tar_at_far_separable() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.8])
    same = np.array([False, False, False, True, True])
    point = metrics.threshold_at_far(scores, same, 1e-3)
    assert point.tar == 1.0 and point.far == 0.0
    assert 0.3 < point.threshold < 0.31


def test_roc_curve_runs_from_nothing_to_everything() -> None:
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.normal(0.0, 0.1, 500), rng.normal(0.6, 0.1, 500)])
    same = np.concatenate([np.zeros(500, bool), np.ones(500, bool)])
    far, tar, thresholds = metrics.roc_curve(scores, same)
    assert far[0] == 0.0 and tar[0] == 0.0
    assert far[-1] == 1.0 and tar[-1] == 1.0
    assert np.all(np.diff(far) >= 0) and np.all(np.diff(tar) >= 0)
    assert np.all(np.diff(thresholds) < 0)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        metrics.threshold_at_far(np.array([0.1, 0.2]), np.array([False, False]), 1e-3)
    with pytest.raises(ValueError):
        metrics.threshold_at_far(np.array([0.1, 0.2]), np.array([False, True]), 1.5)
    with pytest.raises(ValueError):
        metrics.accuracy_at(np.array([]), np.array([], bool), 0.5)
