"""Launching the kiosk browser: Debian's chromium in kiosk mode on the local page.

The browser must not start before the page answers: chromium shows its own error page and never
retries, so `wait_for_page` polls `/status.json` (with a deadline) first.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

KIOSK_FLAGS = (
    "--kiosk", "--noerrdialogs", "--no-first-run", "--disable-translate",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--disable-features=Translate,OverscrollHistoryNavigation",
    "--disable-pinch", "--overscroll-history-navigation=0", "--check-for-update-interval=31536000",
    "--lang=zh-CN",
)


def kiosk_command(url: str, profile_dir: Path, chromium: str = "/usr/bin/chromium") -> list[str]:
    """The chromium command line that shows only the kiosk page, full screen."""
    return [chromium, *KIOSK_FLAGS, f"--user-data-dir={profile_dir}", f"--app={url}"]


def wait_for_page(url: str, timeout_s: float, interval_s: float = 0.5) -> bool:
    """True once the kiosk server answers, False when the deadline passes first."""
    deadline = time.monotonic() + timeout_s
    status_url = url.rstrip("/") + "/status.json"
    while True:
        try:
            with urllib.request.urlopen(status_url, timeout=max(0.1, interval_s)) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() + interval_s > deadline:
            return False
        time.sleep(interval_s)
