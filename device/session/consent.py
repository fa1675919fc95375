"""What a decision record says about consent: who asked, which notice, and the answer.

The kiosk asks on its own screen (card sessions, `asked = "kiosk"`), the home-visit worker's form
asks (`"worker"`), or, where the kiosk's consent screen is switched off, the deploying bureau
asked before the person used the terminal (`"outside"`, no notice version known to the device).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Asked = Literal["kiosk", "worker", "outside"]


@dataclass(frozen=True, slots=True)
class Consent:
    asked: Asked
    accepted: bool
    notice_version: str | None = None

    def record(self) -> dict[str, Any]:
        return {"asked": self.asked, "accepted": self.accepted,
                "notice_version": self.notice_version}


OUTSIDE = Consent("outside", True)
