"""When the live board is drawn: only on a terminal that can redraw in place, unless log lines
are asked for; and its library is not loaded by `dr --help`, which stays fast (measured in
benchmarks/cli_startup.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("args", [["--help"], ["failover", "--help"], ["status", "--help"]])
def test_help_does_not_import_rich(args: list[str]) -> None:
    probe = (f"import sys\nfrom dr.cli.main import main\nmain({args!r})\n"
             "print('rich' in sys.modules, 'dr.cli.board' in sys.modules)")

    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=30, check=True)

    assert result.stdout.splitlines()[-1] == "False False"


@pytest.mark.parametrize(("terminal", "term", "log_format", "board"), [
    (True, "xterm-256color", None, True),
    (True, "xterm-256color", "console", False),  # asked for today's lines
    (True, "xterm-256color", "json", False),
    (True, "dumb", None, False),  # cannot redraw in place
    (False, "xterm-256color", None, False),  # stderr is a pipe
])
def test_a_board_only_on_a_terminal_that_can_redraw(terminal: bool, term: str,
                                                    log_format: str | None,
                                                    board: bool) -> None:
    probe = f"from dr import logs\nprint(logs.draws_board({log_format!r}))"
    controller, pane = os.openpty()
    try:
        result = subprocess.run([sys.executable, "-c", probe], stdout=subprocess.PIPE,
                                stderr=pane if terminal else subprocess.PIPE, text=True,
                                env={**os.environ, "TERM": term}, timeout=30, check=True)
    finally:
        os.close(controller)
        os.close(pane)

    assert result.stdout.strip() == str(board)
