"""Browser tests: ClipCart as a real server process, driven by Chromium through Playwright.

The server gets the same environment as the tests (tests/conftest.py sets CLIPCART_* before
anything is imported, and its session fixture has already migrated the database), so the
tests' factories and clean-up see the same data as the browser. Playwright's async API is
used because pytest-asyncio runs every test inside one session event loop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    async_playwright,
)

from tests.services import require_chromium

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
STARTUP_SECONDS = 30

# Reports Content-Security-Policy violations to the test (init scripts are not subject to CSP).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__clipcartReportCsp(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile || location.href}:${event.lineNumber}`
  );
});
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _python() -> str:
    venv_python = REPO_ROOT / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


@pytest.fixture(scope="session")
def live_server(database: str) -> Iterator[str]:
    """The base URL of ClipCart running under uvicorn in its own process, told its own URL
    (CLIPCART_BASE_URL) so that payments reach the sandbox provider it serves."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = ARTIFACTS / "live-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                _python(),
                "-m",
                "uvicorn",
                "clipcart.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            cwd=REPO_ROOT,
            # One server for every browser test, whose tables are emptied between tests: it
            # reads the feed's shared candidate lists afresh, and lets one address sign up for
            # every test (the limit itself is tested through the API).
            env=dict(
                os.environ,
                CLIPCART_BASE_URL=base_url,
                CLIPCART_FEED_SHARED_LIST_SECONDS="0",
                CLIPCART_SIGNUPS_PER_HOUR_PER_IP="1000",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the server exited early; see {log_path}:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not answer /healthz; see {log_path}")
                time.sleep(0.1)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    executable = require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class PageProblems:
    """What went wrong in the browser while a test ran: CSP violations, console errors."""

    csp_violations: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    allowed_console: list[str] = field(default_factory=list)

    def allow_console(self, fragment: str) -> None:
        """Expect console errors containing `fragment` (e.g. the 404 of a missing page)."""
        self.allowed_console.append(fragment)

    def unexpected(self) -> list[str]:
        """Every problem not explicitly expected."""
        console = [
            message
            for message in self.console_errors
            if not any(fragment in message for fragment in self.allowed_console)
        ]
        return (
            [f"CSP: {v}" for v in self.csp_violations]
            + [f"console: {m}" for m in console]
            + [f"page error: {e}" for e in self.page_errors]
        )


@pytest.fixture
async def context(browser: Browser, live_server: str) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile (no cookies) with a phone-sized window."""
    created = await browser.new_context(
        base_url=live_server, viewport=PHONE, device_scale_factor=1, locale="en-GB"
    )
    created.set_default_timeout(10_000)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
async def problems(context: BrowserContext) -> PageProblems:
    """Collects CSP violations and console errors of every page in `context`."""
    collected = PageProblems()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location.get("url", "")
            collected.console_errors.append(f"{message.text} ({location})")

    def on_page(page: Page) -> None:
        page.on("console", on_console)
        page.on("pageerror", lambda error: collected.page_errors.append(str(error)))

    def report_csp(violation: str) -> None:
        collected.csp_violations.append(violation)

    await context.expose_function("__clipcartReportCsp", report_csp)
    await context.add_init_script(_CSP_LISTENER)
    context.on("page", on_page)
    return collected


@pytest.fixture
async def page(context: BrowserContext, problems: PageProblems) -> AsyncIterator[Page]:
    """A tab in `context`, watched by `problems`."""
    opened = await context.new_page()
    yield opened
    await opened.close()
