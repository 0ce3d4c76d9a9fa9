"""Starting, driving and stopping the background lab from other `dr` processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from dr.errors import DrError, UsageError
from dr.lab.daemon import STATE_FILE

START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


def _state(state_dir: Path) -> dict[str, Any]:
    path = state_dir / STATE_FILE
    if not path.is_file():
        raise UsageError(f"no lab is running ({path} not found)", hint="start one: dr lab up")
    return dict(json.loads(path.read_text()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    # An exited child not yet reaped by its parent still answers kill(0): a zombie.
    return not (stat.is_file() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def up(state_dir: Path, args: list[str]) -> dict[str, Any]:
    path = state_dir / STATE_FILE
    if path.is_file() and _alive(_state(state_dir)["pid"]):
        return _state(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    log = open(state_dir / "lab.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen([sys.executable, "-m", "dr.lab.daemon", "--state-dir",
                                str(state_dir), *args], stdout=log, stderr=log,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if path.is_file():
            return _state(state_dir)
        if process.poll() is not None:
            raise DrError(f"the lab did not start (exit {process.returncode}); "
                          f"see {state_dir / 'lab.log'}")
        time.sleep(0.2)
    process.kill()
    raise DrError(f"the lab did not start within {START_TIMEOUT:.0f}s; "
                  f"see {state_dir / 'lab.log'}")


def call(state_dir: Path, method: str, path: str) -> dict[str, Any]:
    """The lab's answer; one it refused (it changed nothing) is a UsageError saying why."""
    state = _state(state_dir)
    request = urllib.request.Request(state["control_url"] + path, method=method, data=b"")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            return dict(json.loads(answer.read()))
    except urllib.error.HTTPError as refused:
        try:
            message = str(json.loads(refused.read())["error"])
        except (ValueError, KeyError):
            raise refused from None
        raise UsageError(message) from None


def down(state_dir: Path) -> list[tuple[str, int]]:
    """Stop the lab; return the (address, port)s still listening afterwards (none,
    normally)."""
    state = _state(state_dir)
    try:
        call(state_dir, "POST", "/down")
    except OSError:
        os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(state["pid"]):
        os.killpg(state["pid"], signal.SIGKILL)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return [(address, port) for address, port in state["ports"] if _listening(address, port)]


def _listening(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((address, port)) == 0
