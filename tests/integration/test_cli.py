"""The `clipcart` command as a person runs it: a real process on its own data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLIPCART = [sys.executable, "-m", "clipcart"]


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPCART_")}
    env.update({"CLIPCART_DATA_DIR": str(data_dir), "CLIPCART_LOG_LEVEL": "WARNING"})
    return subprocess.run([*CLIPCART, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_migrate_creates_the_database_and_is_repeatable(data_dir: Path) -> None:
    first = _run(["migrate"], data_dir)
    assert first.returncode == 0, first.stderr
    assert "up to date" in first.stdout
    assert (data_dir / "clipcart.db").stat().st_size > 0
    again = _run(["migrate"], data_dir)
    assert again.returncode == 0, again.stderr


def test_createuser_creates_an_account_once(data_dir: Path) -> None:
    assert _run(["migrate"], data_dir).returncode == 0
    args = [
        "createuser",
        "--email", "ops@example.com",
        "--handle", "ops_person",
        "--password", "correct horse battery staple",
        "--role", "admin",
    ]  # fmt: skip
    created = _run(args, data_dir)
    assert created.returncode == 0, created.stdout + created.stderr
    assert "@ops_person" in created.stdout

    duplicate = _run(args, data_dir)
    assert duplicate.returncode == 1
    assert "already" in duplicate.stdout.lower()


def test_createuser_refuses_a_weak_password(data_dir: Path) -> None:
    assert _run(["migrate"], data_dir).returncode == 0
    weak = _run(
        [
            "createuser",
            "--email",
            "a@example.com",
            "--handle",
            "weakling",
            "--password",
            "password",
        ],
        data_dir,
    )
    assert weak.returncode == 1
    assert "password" in weak.stdout.lower()


def test_help_lists_the_commands(data_dir: Path) -> None:
    result = _run(["--help"], data_dir)
    assert result.returncode == 0
    for command in ("demo", "serve", "worker", "migrate", "createuser"):
        assert command in result.stdout


def test_train_says_when_there_is_nothing_to_learn_from(data_dir: Path) -> None:
    assert _run(["migrate"], data_dir).returncode == 0
    result = _run(["train"], data_dir)
    assert result.returncode == 0, result.stderr
    assert "Nothing to learn from yet" in result.stdout
    assert not (data_dir / "models" / "recs" / "current.json").exists()
