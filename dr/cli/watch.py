"""`dr status --watch`: the estate read again every few seconds, for the second operator who
watches while the first runs the failover.

On a terminal it is a board redrawn in place (dr/cli/estate_board.py, which loads rich):
the active side, each database's role and lag, where DNS and CDN point, health per region,
which region does not answer, and what changed since the watch began. Elsewhere, or with
`--json`, every reading is printed in full: a JSON document per line, or the `dr status`
table. Ctrl-C ends the watch (exit 0: it changed nothing).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import click

from dr import logs
from dr.cli.render import status_table


def watch_status(config: Any, *, every: float, as_json: bool,
                 gather: Callable[[Any], dict[str, Any]]) -> int:
    try:
        if not as_json and logs.can_redraw(sys.stdout):
            from dr.cli.estate_board import EstateBoard

            with EstateBoard(every) as board:
                for state in _readings(config, every, gather, board.reading):
                    board.show(state)
        else:
            for state in _readings(config, every, gather, lambda: None):
                if as_json:
                    click.echo(json.dumps(state, default=str))
                else:
                    status_table(state)
                    click.echo("")
    except KeyboardInterrupt:
        pass
    return 0


def _readings(config: Any, every: float, gather: Callable[[Any], dict[str, Any]],
              starting: Callable[[], None]) -> Iterator[dict[str, Any]]:
    """A reading every `every` seconds from the start of the one before; one slowed past
    that by a region that does not answer is followed by the next at once."""
    while True:
        began = time.monotonic()
        starting()
        yield gather(config)
        time.sleep(max(0.0, every - (time.monotonic() - began)))
