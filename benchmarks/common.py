"""Helpers shared by the benchmark scripts: the machine, worker subprocesses, medians."""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("boto3", "botocore", "moto"):
        try:
            module = __import__(name)
            versions[name] = str(module.__version__)
        except ImportError:
            versions[name] = "not installed"
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": str(os.cpu_count()), "cpu": cpu,
            "python": platform.python_version(), **versions}


def machine_line() -> str:
    m = machine()
    return (f"{m['date']}; {m['nproc']} CPUs ({m['cpu']}); Python {m['python']}, "
            f"boto3 {m['boto3']}, moto {m['moto']}")


def run_worker(args: list[str], *, timeout: float, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `python ARGS` in its own process group; the last stdout line is its JSON answer.
    On timeout the whole group is killed (the lab's PostgreSQL servers included)."""
    process = subprocess.Popen([sys.executable, *args], cwd=cwd, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        return {"error": f"timed out after {timeout} s", "stderr": err[-2000:]}
    lines = [line for line in out.strip().splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"exit {process.returncode}, no answer", "stderr": err[-2000:],
                "exit_code": process.returncode}
    answer: dict[str, Any] = json.loads(lines[-1])
    answer.setdefault("exit_code", process.returncode)
    return answer


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def quiet_logs(level: int = logging.WARNING) -> None:
    """dr's structlog events at `level` and above, to stderr (stdout carries the answers)."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level),
                        logger_factory=lambda *_: structlog.PrintLogger(file=sys.stderr))


def dr_executable() -> str:
    """The installed `dr` console script (beside this Python when not on the PATH)."""
    return shutil.which("dr") or str(Path(sys.executable).with_name("dr"))
