"""A real terminal for tests of what an operator sees: a tmux server of the test's own (its
socket in the test's directory) with one 120x40 pane, read as text (fixture `terminal` in
tests/steps/conftest.py)."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any


class Terminal:
    """A tmux server of this test's own (its socket in tmp_path), one 120x40 pane."""

    def __init__(self, tmp_path: Path) -> None:
        self.socket = str(tmp_path / "tmux.sock")

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, "-f", os.devnull, *args],
                              capture_output=True, text=True, check=True, timeout=30).stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self.tmux("new-session", "-d", "-s", "board", "-x", "120", "-y", "40",
                  # Under pytest the environment can hold COLUMNS=80, LINES=24 (set below
                  # os.environ), which rich would take over the pane's real size.
                  f"env -u COLUMNS -u LINES {exports} TERM=screen-256color {command}")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", "board")

    def history(self) -> str:
        """Everything the pane has shown, scrolled off or not."""
        return self.tmux("capture-pane", "-p", "-t", "board", "-S", "-", "-E", "-")

    def stop(self) -> None:
        self.tmux("kill-server")


def wait_for(what: str, probe: Any, timeout: float = 60, seen: Any = None) -> Any:
    """`probe()` once it is truthy; else fail after `timeout` s, with `seen()` if given."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f"; last seen:\n{seen()}"
                                                             if seen else ""))
