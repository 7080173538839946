"""Fail when an installed venv does not satisfy pyproject.toml's requirements, dev extras
included (`pip check` ignores extras). Run by `make venv` after installing requirements.lock."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import Requirement


def main() -> int:
    """Print each unmet requirement of clipcart[dev]; exit 1 if there is any."""
    problems: list[str] = []
    for line in requires("clipcart") or []:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate({"extra": "dev"}):
            continue
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            problems.append(f"{requirement} is not installed")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            problems.append(f"{requirement} but {installed} is installed")
    for problem in problems:
        print(f"pyproject.toml needs {problem}", file=sys.stderr)
    if problems:
        print(
            "requirements.lock is out of date: run 'make lock', then 'make venv'", file=sys.stderr
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
