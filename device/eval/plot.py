"""ROC and DET curves of a verification run as one PNG (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.eval.metrics import Labels, Scores, roc_curve
from device.extras import eval_extra

FLOOR = 1e-4


def plot_roc_det(scores: Scores, same: Labels, path: Path, title: str) -> None:
    """Left: TAR against FAR (log FAR). Right: DET, FRR against FAR, both log scales."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError as exc:
        raise eval_extra("ROC/DET plots", exc) from exc

    far, tar, _ = roc_curve(scores, same)
    figure, (roc, det) = plt.subplots(1, 2, figsize=(10, 4.2))
    try:
        roc.plot(np.maximum(far, FLOOR), tar, lw=1.5)
        roc.set_xscale("log")
        roc.set_xlim(FLOOR, 1.0)
        roc.set_ylim(min(0.9, float(tar[np.searchsorted(far, 1e-3)]) - 0.02), 1.001)
        roc.set_xlabel("false accept rate")
        roc.set_ylabel("true accept rate")
        roc.set_title("ROC")
        det.plot(np.maximum(far, FLOOR), np.maximum(1.0 - tar, FLOOR), lw=1.5)
        det.set_xscale("log")
        det.set_yscale("log")
        det.set_xlim(FLOOR, 1.0)
        det.set_ylim(FLOOR, 1.0)
        det.set_xlabel("false accept rate")
        det.set_ylabel("false reject rate")
        det.set_title("DET")
        for axis in (roc, det):
            axis.axvline(1e-3, color="grey", ls="--", lw=0.8)
            axis.grid(True, which="both", alpha=0.3)
        figure.suptitle(title)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
    finally:
        plt.close(figure)
