"""Headless Chromium for the studio's browser tests, benchmarks and screenshots.

Uses Debian's ``chromium`` and ``chromium-driver`` (``apt-get install chromium
chromium-driver``) through Selenium (``pip install selenium``, in the ``dev`` extra); nothing
is downloaded. :func:`missing` says in one line what is not installed and how to install it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Optional

BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVERS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
INSTALL = "apt-get install chromium chromium-driver (Debian) and pip install selenium"


def _first(paths, name: str) -> Optional[str]:
  found = [p for p in paths if os.path.exists(p)]
  return found[0] if found else shutil.which(name)


def missing() -> Optional[str]:
  """None when a headless browser can be started here, else one line saying what to install."""
  try:
    import selenium  # noqa: F401  # lazy: selenium is a dev extra, not a dependency
  except ImportError:
    return f"selenium is not installed: {INSTALL}"
  if _first(BROWSERS, "chromium") is None:
    return f"no Chromium found: {INSTALL}"
  if _first(DRIVERS, "chromedriver") is None:
    return f"no chromedriver found: {INSTALL}"
  return None


def chrome(width: int = 1400, height: int = 1000):
  """A headless Chromium driven by Selenium, offline-safe (no background networking, a new
  empty profile, no sandbox: CI runs as root). Quit it with ``driver.quit()``."""
  problem = missing()
  if problem:
    raise RuntimeError(problem)
  from selenium import webdriver  # lazy: selenium is a dev extra, not a dependency
  from selenium.webdriver.chrome.service import Service  # lazy: as above
  options = webdriver.ChromeOptions()
  options.binary_location = _first(BROWSERS, "chromium")
  for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
               f"--window-size={width},{height}",
               f"--user-data-dir={tempfile.mkdtemp(prefix='jaxgen-chrome-')}"):
    options.add_argument(flag)
  return webdriver.Chrome(service=Service(_first(DRIVERS, "chromedriver")), options=options)


def wait_for(driver, script: str, timeout: float = 60.0, poll: float = 0.02):
  """Runs ``return <script>`` in the page until it is truthy; returns its value
  (TimeoutError after ``timeout`` seconds)."""
  deadline = time.time() + timeout
  while True:
    value = driver.execute_script("return " + script)
    if value:
      return value
    if time.time() > deadline:
      raise TimeoutError(f"the page did not reach {script!r} in {timeout} s")
    time.sleep(poll)
