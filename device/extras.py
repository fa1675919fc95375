"""Optional dependencies: evaluation, synthesis and plotting need the `eval` extra
(`pip install 'faceterm[eval]'`: scipy, scikit-image, matplotlib). A kiosk installs the runtime
dependencies only, so those packages are imported where they are used, never at import time,
and their absence is reported as what to install."""

from __future__ import annotations

from device.errors import FacetermError

EVAL_EXTRA = "faceterm[eval]"


class ExtraMissing(FacetermError):
    """A feature needs a package of an optional extra that is not installed."""


def eval_extra(feature: str, exc: ImportError) -> ExtraMissing:
    """The error to raise (`from exc`) when `feature` cannot import an eval-extra package."""
    missing = exc.name or str(exc)
    return ExtraMissing(
        f"{feature} needs the eval extra ({missing} is not installed): "
        f"pip install '{EVAL_EXTRA}'"
    )
