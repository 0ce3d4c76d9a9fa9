"""The live step board, seen as an operator sees it: `dr failover` in a real terminal (tmux,
120x40) against the emulator with modelled AWS timings, its pane read during the promotion
wait and at the end; and the same command with stderr piped, which keeps the JSON lines."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dr.lab import fidelity
from dr.lab.timing import TimingProfile
from tests.steps.conftest import World
from tests.support.terminal import Terminal, wait_for

DR = [sys.executable, "-c", "import sys; from dr.cli.main import main; sys.exit(main())"]
# Promotion and the CloudFront deployment take 3 s each: long enough to read the board while
# the promotion is awaited, short enough for the default run.
SLOW = TimingProfile("realistic", time_scale=0.01)
LOG_LINE = re.compile(r'\[(info|warning|error)\s*\]|"event":|wait\.progress|step\.started')


def only_report(world: World) -> dict[str, Any]:
    (report,) = (world.path.parent / ".dr" / "runs").glob("*/report.json")
    return json.loads(report.read_text())


def line_of(screen: str, step_id: str) -> str:
    (line,) = [ln for ln in screen.splitlines() if re.search(rf"\s{re.escape(step_id)}\s", ln)]
    return line


def start_failover(world: World, terminal: Terminal) -> Path:
    """`dr failover` in the pane, slowed to modelled timings; returns where its exit code
    will be written, once the terminal's settings are in `stty` beside it (the shell
    outlives dr so the pane can be read; its trap lets Ctrl-C stop dr alone)."""
    fidelity.set_profile(SLOW)
    done = world.path.parent / "exit-code"
    command = shlex.join([*DR, "failover", "--to", "secondary", "--yes",
                          "--config", str(world.path)])
    tty = world.path.parent / "stty"
    script = (f"trap true INT; {command}; code=$?; stty -a > {tty}; echo $code > {done}; "
              "sleep 600")
    terminal.start(f"sh -c {shlex.quote(script)}", world.aws.env)
    return done


def promotion_awaited(terminal: Terminal) -> str:
    return wait_for("the board to show the promotion wait", lambda: next(
        (screen for screen in [terminal.screen()]
         if re.search(r"running\s+\S*promote\S*\s+[\d.:s]+\s+waiting for", screen)), None),
        seen=terminal.history)


@pytest.mark.needs("tmux")
def test_failover_on_a_terminal_draws_a_board_in_place(small_world: World,
                                                       terminal: Terminal) -> None:
    done = start_failover(small_world, terminal)

    during = promotion_awaited(terminal)
    wait_for("dr failover to exit", done.is_file)
    history = terminal.history()

    assert done.read_text().strip() == "0", history
    report = only_report(small_world)
    steps = {s["type"]: s["id"] for s in report["steps"]}
    # During the wait: the fence before it has succeeded, the promotion is awaited and says
    # for what, the health check (which needs the promotion) has not started, and the clock
    # runs.
    assert "succeeded" in line_of(during, steps["rds.fence-primary"])
    assert re.search(r"running .*waiting for \S+ available", line_of(
        during, steps["rds.promote-replica"]))
    assert "pending" in line_of(during, steps["health.verify"])
    assert re.search(r"RTO clock \d+:\d\d of 15:00 .* \d+%", during)
    # At the end: every step with the state the report gives it, and the measured RTO (read
    # from the pane's history: with the summary after it, it may be taller than the screen).
    board = history.split("\ndr failover eu-west-1 -> ")[0]
    for step in report["steps"]:
        assert step["status"] in line_of(board, step["id"])
    rto = report["rto"]
    assert f"RTO {rto['measured_seconds']:.1f}s of 900s target: met ({rto['method']})" in board
    assert "succeeded" in board.splitlines()[0]
    # Redrawn in place: no log line anywhere in what the pane showed, and one board.
    assert not [ln for ln in history.splitlines() if LOG_LINE.search(ln)]
    assert history.count("dr failover  eu-west-1 → ap-southeast-2") == 1


@pytest.mark.slow
@pytest.mark.needs("tmux")
def test_ctrl_c_on_the_board_leaves_its_last_state_and_the_cursor(small_world: World,
                                                                  terminal: Terminal) -> None:
    done = start_failover(small_world, terminal)
    promotion_awaited(terminal)

    terminal.tmux("send-keys", "-t", "board", "C-c")
    wait_for("dr failover to exit", done.is_file)
    history = terminal.history()

    assert done.read_text().strip() == "130", history
    board = history.split("\ndr failover eu-west-1 -> ")[0]
    assert re.match(r"dr failover .* interrupted$", board.splitlines()[0])
    assert "succeeded" in line_of(board, "databases.main.fence")
    assert history.count("dr failover  eu-west-1 → ap-southeast-2") == 1
    # The board hid the cursor and turned off the echo of keys; both are back for the shell.
    assert terminal.tmux("display-message", "-p", "-t", "board", "#{cursor_flag}").strip() == "1"
    assert re.search(r"(^|\s)echo(\s|$)", (small_world.path.parent / "stty").read_text())


def test_failover_with_stderr_piped_logs_json_lines(small_world: World) -> None:
    result = subprocess.run([*DR, "failover", "--to", "secondary", "--yes", "--config",
                             str(small_world.path)], cwd=small_world.path.parent,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, **small_world.aws.env})

    assert result.returncode == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stderr.splitlines()]
    assert events[0] == "run.started"
    assert {"step.started", "wait.started", "step.succeeded", "run.finished"} <= set(events)
    assert "\x1b[" not in result.stderr


@pytest.mark.slow
@pytest.mark.needs("tmux")
def test_a_run_that_cannot_start_leaves_its_error_and_no_board(small_world: World,
                                                                terminal: Terminal) -> None:
    done = small_world.path.parent / "exit-code"
    command = shlex.join([*DR, "failover", "--resume", "2026-11-24T21-40-00Z-3f9a", "--yes",
                          "--config", str(small_world.path)])
    terminal.start(f"sh -c {shlex.quote(f'{command}; echo $? > {done}; sleep 600')}",
                   small_world.aws.env)
    wait_for("dr failover to exit", done.is_file)

    screen = terminal.screen()
    assert done.read_text().strip() == "2", screen
    assert screen.splitlines()[0].startswith("dr: ")  # the error line, where the board was
    assert "2026-11-24T21-40-00Z-3f9a" in screen
    assert terminal.tmux("display-message", "-p", "-t", "board", "#{cursor_flag}").strip() == "1"
