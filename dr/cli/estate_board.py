"""The `dr status --watch` board on a terminal: the last reading of the estate, redrawn in
place, with how old it is and what changed since the watch began. Loads rich: imported only
when the board is drawn. Log events (a region that stops answering) become its notices
instead of lines that would scroll it away."""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from contextlib import ExitStack
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dr import logs
from dr.cli.render import status_rows, traffic_rows
from dr.runbook.journal import parse_iso

CHANGES = 8
NOTICES = 3


class EstateBoard:
    def __init__(self, every: float, console: Console | None = None) -> None:
        self.every = every
        self.console = console or Console(file=sys.stdout)
        self._lock = threading.Lock()
        self._state: dict[str, Any] | None = None
        self._cells: dict[str, str] = {}
        self._reading = False
        self._changes: deque[str] = deque(maxlen=CHANGES)
        self._notices: deque[str] = deque(maxlen=NOTICES)
        self._live = Live(console=self.console, get_renderable=self.render,
                          refresh_per_second=2, transient=False, redirect_stdout=False,
                          redirect_stderr=True)
        self._stack = ExitStack()

    def __enter__(self) -> EstateBoard:
        self._stack.enter_context(logs.diverted(self._notice))
        self._live.start()
        self._stack.callback(self._live.stop)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def reading(self) -> None:
        with self._lock:
            self._reading = True

    def show(self, state: dict[str, Any]) -> None:
        """A new reading: what differs from the last one goes on the list of changes."""
        cells = _cells(state)
        at = state["at"][11:19] + "Z"
        with self._lock:
            if self._state is not None:
                for name, value in cells.items():
                    before = self._cells.get(name)
                    if before != value:
                        self._changes.appendleft(f"{at}  {name}: {before or '—'} → {value}")
            self._state, self._cells, self._reading = state, cells, False

    def _notice(self, event: dict[str, Any]) -> None:
        if event.get("level") in ("warning", "error", "critical"):
            fields = " ".join(f"{k}={v}" for k, v in event.items()
                              if k not in ("event", "level", "timestamp", "logger"))
            with self._lock:
                self._notices.appendleft(f"{event.get('event')} {fields}")

    def render(self) -> RenderableType:
        """What the board shows now (on rich's refresh thread too: an error is shown, not
        raised, so that the watch goes on)."""
        try:
            return self._render()
        except Exception as exc:  # noqa: BLE001 - a reading it cannot draw is said so
            return Text(f"dr status: cannot draw this reading ({exc!r})", style="red")

    def _render(self) -> RenderableType:
        with self._lock:
            state, reading = self._state, self._reading
            changes, notices = list(self._changes), list(self._notices)
        if state is None:
            return Text("dr status: reading the estate…", style="bold")
        regions = state["regions"]
        active = state["active"]
        title = Text(f"{state['app']}/{state['environment']}  active ", style="bold")
        title.append(active, style="bold green" if active in ("primary", "secondary")
                     else "bold red")
        age = max(0.0, time.time() - parse_iso(state["at"]).timestamp())
        title.append(f"   as of {state['at'][11:19]}Z ({age:.0f} s ago), every "
                     f"{self.every:g} s" + ("; reading…" if reading else ""), style="dim")
        parts: list[RenderableType] = [title]
        for region, reason in state["unreachable_regions"].items():
            parts.append(Text(f"UNREACHABLE {region}: {reason}", style="bold red",
                              overflow="ellipsis", no_wrap=True))
        table = Table(box=None, pad_edge=False, expand=True, show_edge=False)
        table.add_column("", no_wrap=True, overflow="ellipsis", max_width=44)
        table.add_column(f"primary ({regions['primary']})", no_wrap=True,
                         overflow="ellipsis", ratio=1)
        table.add_column(f"secondary ({regions['secondary']})", no_wrap=True,
                         overflow="ellipsis", ratio=1)
        for name, primary, secondary in status_rows(state):
            table.add_row(name, _styled(primary), _styled(secondary))
        traffic = Table.grid(padding=(0, 2))
        traffic.add_column(no_wrap=True, overflow="ellipsis", max_width=60)
        traffic.add_column(no_wrap=True, overflow="ellipsis")
        for name, value in traffic_rows(state):
            traffic.add_row(name, Text("→ ").append(_styled(value)))
        parts += [Text(""), table, Text(""), traffic]
        if changes:
            parts += [Text(""), Text("changes seen", style="bold")]
            parts += [Text(c, overflow="ellipsis", no_wrap=True) for c in changes]
        if notices:
            parts += [Text(""), *(Text(n, style="yellow", overflow="ellipsis", no_wrap=True)
                                  for n in notices)]
        return Group(*parts)


def _cells(state: dict[str, Any]) -> dict[str, str]:
    """Every value the board shows, by name, for finding what changed between readings."""
    cells = {"active": str(state["active"])}
    for name, primary, secondary in status_rows(state):
        cells[f"{name} (primary)"] = primary
        cells[f"{name} (secondary)"] = secondary
    cells.update(traffic_rows(state))
    for region, reason in state["unreachable_regions"].items():
        cells[f"region {region}"] = f"unreachable: {reason}"
    return cells


def _styled(value: str) -> Text:
    words = value.split()
    style = ("red" if value.startswith(("error", "no answer")) or "missing" in words
             else "green" if words[:1] in (["writer"], ["200"]) else "")
    return Text(value, style=style)
