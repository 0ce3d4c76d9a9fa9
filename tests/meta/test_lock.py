"""The versions the tests run with are the versions a fresh install gets: constraints.txt
pins every package of '.[dev]', and this environment has exactly those versions."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[_normal(name)] = version.strip()
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_locked_package_is_installed_at_its_locked_version() -> None:
    pins = locked()
    wrong = {}
    for name, version in pins.items():
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = None
        if found != version:
            wrong[name] = (found, version)
    assert not wrong, f"installed vs locked (run the README's install command): {wrong}"


def test_every_dependency_of_the_project_is_locked() -> None:
    pins = locked()
    requirements = [Requirement(r) for r in metadata.requires("dr-toolkit") or []]
    names = {_normal(r.name) for r in requirements if _normal(r.name) != "dr-toolkit"}
    assert names - set(pins) == set()
