"""What the session tells the liveness probe about an attempt: its pace and what this person
already did in the visit (frozen data from the session machine, device/session/machine.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AttemptPlan:
    """`slow`: the slow pace (kiosk pace "slow", or an attempt after a failed one); `attempt`
    1-based within the visit; `done_well` actions passed at their first prompt earlier in the
    visit; `failed_last` the actions the previous attempt could not complete."""

    slow: bool = False
    attempt: int = 1
    done_well: tuple[str, ...] = ()
    failed_last: tuple[str, ...] = ()
