"""Which real services this run may use: skip with a reason outside CI, fail inside CI."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get("CLIPCART_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("CLIPCART_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("CLIPCART_TEST_CHROMIUM", "/usr/bin/chromium")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def missing(reason: str) -> None:
    """Skip the test with `reason`, or fail it when running in CI."""
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


def require_postgres() -> str:
    """The PostgreSQL URL for tests."""
    if not POSTGRES_URL.startswith("postgresql"):
        missing("CLIPCART_TEST_DATABASE_URL is not set to a PostgreSQL URL")
    return POSTGRES_URL


def require_redis() -> str:
    """The Redis URL for tests (database 15 by default)."""
    if not _port_open("127.0.0.1", 6379) and "127.0.0.1:6379" in REDIS_URL:
        missing("Redis is not running on 127.0.0.1:6379")
    return REDIS_URL


def require_chromium() -> str:
    """The Chromium binary Playwright drives."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM
