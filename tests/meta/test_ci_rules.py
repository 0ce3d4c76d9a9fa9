"""CI's rules, run for real in a nested pytest: a test that needs a missing outside tool is
skipped on a developer's machine and fails under CI=true (CI installs what tests need)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEEDS_TERRAFORM = "tests/terraform/test_terraform_static.py::test_fmt_is_clean"


def nested_pytest(ci: str) -> subprocess.CompletedProcess[str]:
    # A PATH with the interpreter's own directory only: no terraform on it.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent), "CI": ci}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-rs", NEEDS_TERRAFORM], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("ci", "code", "said"), [
    ("true", 1, "terraform is not on PATH; CI=true"),
    ("", 0, "SKIPPED"),
])
def test_a_missing_tool_skips_outside_ci_and_fails_in_ci(ci: str, code: int, said: str) -> None:
    done = nested_pytest(ci)
    assert done.returncode == code, done.stdout + done.stderr
    assert said in done.stdout
