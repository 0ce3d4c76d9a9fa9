"""`dr status --watch`: the estate read again every few seconds, for the second operator who
watches while the first runs the failover.

On a terminal it is a board redrawn in place (dr/cli/estate_board.py, which loads rich):
the active side, each database's role and lag, where DNS and CDN point, health per region,
which region does not answer, and what changed since the watch began. Elsewhere, or with
`--json`, every reading is printed in full: a JSON document per line, or the `dr status`
table. Ctrl-C (or SIGTERM) ends the watch (exit 0: it changed nothing).

The signal is both raised, to cut a reading short, and remembered: Python swallows an
exception raised while a garbage-collection finalizer runs ("Exception ignored in:
<finalize object>"), and a watch that lost its Ctrl-C that way used to read on for ever.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import click

from dr import logs
from dr.cli.render import status_table
from dr.runbook.interrupt import handled


def watch_status(config: Any, *, every: float, as_json: bool,
                 gather: Callable[[Any], dict[str, Any]]) -> int:
    stopped = threading.Event()

    def stop(_signum: int, _frame: Any) -> None:
        stopped.set()
        raise KeyboardInterrupt

    try:
        with handled(stop):
            _watch(config, every, as_json, gather, stopped)
    except KeyboardInterrupt:
        pass
    return 0


def _watch(config: Any, every: float, as_json: bool, gather: Callable[[Any], dict[str, Any]],
           stopped: threading.Event) -> None:
    if not as_json and logs.can_redraw(sys.stdout):
        from dr.cli.estate_board import EstateBoard

        with EstateBoard(every) as board:
            for state in _readings(config, every, gather, board.reading, stopped):
                board.show(state)
    else:
        for state in _readings(config, every, gather, lambda: None, stopped):
            if as_json:
                click.echo(json.dumps(state, default=str))
            else:
                status_table(state)
                click.echo("")


def _readings(config: Any, every: float, gather: Callable[[Any], dict[str, Any]],
              starting: Callable[[], None], stopped: threading.Event) -> Iterator[dict[str, Any]]:
    """A reading every `every` seconds from the start of the one before; one slowed past
    that by a region that does not answer is followed by the next at once. None after a
    stop, even one whose exception was swallowed."""
    while not stopped.is_set():
        began = time.monotonic()
        starting()
        state = gather(config)
        if stopped.is_set():
            return
        yield state
        stopped.wait(max(0.0, every - (time.monotonic() - began)))
