"""Debian's Chromium and ChromeDriver, for the test that opens the docs site in a real browser.

`buildlab doctor --fix` installs them (as root on Debian: the machine's own release, like any
package); the test drives Chromium headless through Selenium. Flags as the browser needs them
on a machine with no screen and a closed network.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from buildlab.support.errors import EngineError

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ["chromium", "chromium-driver"]
# Headless, as root, with no first-run page, no GPU and no background connections (which a
# closed network refuses, many at a time, and which would make a test wait).
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1280,900",
)


def browser_present() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def ensure_browser(*, fix: bool, say: Callable[[str], None] = print) -> None:
    if browser_present():
        say(f"browser: {CHROMIUM} and {CHROMEDRIVER} present")
        return
    if not fix:
        raise EngineError(f"{CHROMIUM} or {CHROMEDRIVER} is missing: run `make doctor`")
    from buildlab.engine.daemon import apt_install

    say(f"browser: installing {' '.join(PACKAGES)} (apt)")
    apt_install(PACKAGES, from_stable_suite=False)
    if not browser_present():
        found = shutil.which("chromium"), shutil.which("chromedriver")
        raise EngineError(f"apt installed {PACKAGES} but {found} is not what the test runs")
