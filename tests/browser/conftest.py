"""Headless Debian chromium driven by Debian's chromedriver (selenium), against the kiosk server.

No tool downloads a browser: selenium is told where chromium and chromedriver are, and Selenium
Manager is kept offline. Without them the tests skip with the reason, except under CI, where
`make test` has installed them (scripts/install-deps.sh) and their absence is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--lang=zh-CN", "--hide-scrollbars", "--force-device-scale-factor=1",
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK)
                                       else None)
        if found:
            return found
    return None


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python selenium is not installed (pip install -e '.[dev]')"
    if _find("chromium", "/usr/bin/chromium") is None:
        return "chromium is not installed (apt-get install chromium; scripts/install-deps.sh)"
    if _find("chromedriver", "/usr/bin/chromedriver") is None:
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(_find("chromium", "/usr/bin/chromium"))
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    service = Service(executable_path=str(_find("chromedriver", "/usr/bin/chromedriver")))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_window_size(1280, 800)
    driver.set_page_load_timeout(15)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
