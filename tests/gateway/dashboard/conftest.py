"""A real browser for the dashboard tests: Debian's Chromium, driven by the Python `playwright`
package through `executable_path`, so Playwright never downloads a browser of its own.

Whatever is missing is installed first: Chromium with apt-get, the `playwright` package with pip
at the version the test extras of pyproject.toml name. A browser that cannot be installed or
started fails the session; these tests never skip.
"""

import importlib
import pathlib
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from loadtests.debian_packages import ensure_debian_package
from tests.conftest import PROJECT_ROOT, private_directory

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

CHROMIUM = pathlib.Path("/usr/bin/chromium")
# Without these, Chromium on a closed network waits on services it cannot reach.
CHROMIUM_ARGUMENTS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}


def install_chromium() -> pathlib.Path:
    """Debian's Chromium, installed now if it is missing."""
    return ensure_debian_package("chromium", str(CHROMIUM))


def playwright_requirement() -> str:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as pyproject:
        extras = tomllib.load(pyproject)["project"]["optional-dependencies"]["test"]
    requirement: str = next(entry for entry in extras if entry.startswith("playwright"))
    return requirement


def pytest_configure(config: pytest.Config) -> None:
    """Runs as this file is loaded, before the tests beside it import `playwright`."""
    install_playwright()


def install_playwright() -> None:
    """The Python package alone: its driver is bundled, and the browser is Debian's."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", playwright_requirement()],
            check=True,
        )
        importlib.invalidate_caches()


@pytest.fixture(scope="session")
async def browser_context() -> AsyncIterator["BrowserContext"]:
    """One headless Chromium with a new, empty profile, for the whole session."""
    from playwright.async_api import async_playwright

    chromium = install_chromium()

    with private_directory("onsale-test-chromium-") as profile:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(chromium),
                headless=True,
                args=CHROMIUM_ARGUMENTS,
                locale="en-US",
                timezone_id="UTC",
                viewport=VIEWPORT,
            )
            try:
                yield context
            finally:
                await context.close()
