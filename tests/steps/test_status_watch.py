"""`dr status --watch`, for the second operator: readings again and again while a failover
runs beside it, seen change from primary to secondary; a board redrawn in place on a
terminal (tmux, 120x40), one JSON document a line when piped; Ctrl-C ends it with exit 0."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from typing import Any

import pytest

from tests.steps.conftest import World
from tests.support.terminal import Terminal, wait_for

DR = [sys.executable, "-c", "import sys; from dr.cli.main import main; sys.exit(main())"]


def fail_over(world: World) -> None:
    done = subprocess.run([*DR, "failover", "--to", "secondary", "--yes", "--config",
                           str(world.path)], cwd=world.path.parent, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **world.aws.env})
    assert done.returncode == 0, done.stderr


def test_watch_piped_prints_a_json_reading_per_interval(small_world: World) -> None:
    watch = subprocess.Popen([*DR, "status", "--watch", "--json", "--interval", "0.5",
                              "--config", str(small_world.path)], cwd=small_world.path.parent,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **small_world.aws.env})
    try:
        assert watch.stdout is not None
        first = json.loads(watch.stdout.readline())
        assert first["active"] == "primary"
        fail_over(small_world)
        readings = [first]
        while readings[-1]["active"] != "secondary":
            readings.append(json.loads(watch.stdout.readline()))
        watch.send_signal(signal.SIGINT)
        _, err = watch.communicate(timeout=30)
    finally:
        watch.kill()
    assert watch.returncode == 0, err
    assert readings[-1]["databases"][0]["secondary"]["role"] == "writer"
    assert len({r["at"] for r in readings}) == len(readings)  # each one a new reading


@pytest.mark.slow
@pytest.mark.needs("tmux")
def test_watch_on_a_terminal_redraws_a_board_and_lists_what_changed(
        small_world: World, terminal: Terminal) -> None:
    done = small_world.path.parent / "exit-code"
    command = shlex.join([*DR, "status", "--watch", "--interval", "0.5", "--config",
                          str(small_world.path)])
    terminal.start(f"sh -c {shlex.quote(f'trap true INT; {command}; echo $? > {done}; sleep 600')}",
                   small_world.aws.env)

    def showing(*patterns: str) -> Any:
        return lambda: next((s for s in [terminal.screen()]
                             if all(re.search(p, s) for p in patterns)), None)

    # The board is read until it shows all of a reading's rows (on a loaded machine, one
    # reading may find a region slow to answer and say so).
    columns = r"primary \(eu-west-1\)\s+secondary \(ap-southeast-2\)"
    wait_for("a first reading", showing("active primary", columns,
                                        r"db main\s+writer available\s+replica available"),
             seen=terminal.screen)
    fail_over(small_world)
    after = wait_for("a reading after the failover", showing(
        "active secondary", columns, r"db main\s+fenced \S+\s+writer available",
        r"health api\s+200\s+200", r"dns api\.timeline\.example\.com\s+→ \S+ secondary"),
        seen=terminal.screen)
    terminal.tmux("send-keys", "-t", "board", "C-c")
    wait_for("the watch to end", done.is_file)

    assert done.read_text().strip() == "0"
    changes = after.split("changes seen")[1]
    # Readings taken while the failover ran may have caught it half done ("mixed").
    assert re.search(r"\d\d:\d\d:\d\dZ  active: (primary|mixed) → secondary", changes)
    history = terminal.history()
    assert history.count("timeline/staging  active") == 1  # redrawn in place, never scrolled
    assert terminal.tmux("display-message", "-p", "-t", "board", "#{cursor_flag}").strip() == "1"
