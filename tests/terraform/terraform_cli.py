"""Running the terraform CLI from tests: one place that knows how to init offline."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "terraform"
ROOT_STACKS = ("bootstrap", "primary", "secondary")
ENVIRONMENTS = ("dev", "staging", "prod")
# A local provider mirror (these machines have no registry access); elsewhere
# terraform init uses the registry.
PLUGIN_DIR = Path(os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins"))


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900
) -> Result:
    started = time.monotonic()
    proc = subprocess.run(
        ["terraform", *args],
        cwd=cwd,
        env={**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def init_args(*extra: str) -> list[str]:
    args = ["init", "-no-color", "-input=false", *extra]
    if PLUGIN_DIR.is_dir():
        args.append(f"-plugin-dir={PLUGIN_DIR}")
    return args


def check(result: Result, what: str) -> Result:
    assert result.returncode == 0, (
        f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result
