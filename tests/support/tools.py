"""Outside tools some tests need (PostgreSQL's server binaries, terraform, the AWS CLI), and
what to do when one is missing: a developer's machine skips, saying why; CI (`CI=true`)
fails, because CI installs what the tests need and a skip there would pass untested code.

A test asks with `@pytest.mark.needs("postgres")` (or "terraform", "aws", "jq"...);
tests/conftest.py applies the rule before the test runs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from dr.lab.postgres import unavailable_reason as postgres_unavailable


def _binary(name: str) -> Callable[[], str | None]:
    def missing() -> str | None:
        return None if shutil.which(name) else f"{name} is not on PATH"

    return missing


MISSING: dict[str, Callable[[], str | None]] = {
    "postgres": postgres_unavailable,
    "terraform": _binary("terraform"),
    "aws": _binary("aws"),
    "jq": _binary("jq"),
    "curl": _binary("curl"),
    "tmux": _binary("tmux"),
    "chromium": _binary("chromium"),
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
