"""The live step board on a terminal: one line per step with its state, elapsed time and
what it waits for, the RTO clock against its target, problems, follow-ups and warnings,
redrawn in place on stderr instead of a log line per poll.

This module imports rich, which costs start-up time: the CLI imports it only when a board is
drawn (`logs.draws_board`). While the board is up, log events are diverted to it; when the
run ends, or raises (Ctrl-C included), the board stops: its last state stays on the screen
(erased when nothing had started, or after a dry run), the cursor and the echo of keys come
back, and log events go to stderr again.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dr import logs
from dr.cli.progress import RunProgress, Step, View, rows

STYLES = {"pending": "dim", "running": "bold cyan", "succeeded": "green", "failed": "bold red",
          "skipped": "yellow", "planned": "blue", "rolled_back": "magenta"}
REFRESH_PER_SECOND = 4


class RunBoard:
    def __init__(self, console: Console | None = None) -> None:
        self.progress = RunProgress()
        self.console = console or Console(file=sys.stderr)
        self._live = Live(console=self.console, get_renderable=self.render,
                          refresh_per_second=REFRESH_PER_SECOND, transient=False,
                          redirect_stdout=False, redirect_stderr=True)
        self._stack = ExitStack()

    def __enter__(self) -> RunBoard:
        self._stack.enter_context(logs.diverted(self.progress.event))
        _quiet_keyboard(self._stack)
        self._live.start()
        self._stack.callback(self._live.stop)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: Any) -> None:
        view = self.progress.view()
        if kind is not None:
            self.progress.stop("interrupted" if issubclass(kind, KeyboardInterrupt)
                               else f"stopped: {type(exc).__name__}")
        # Erased instead of kept: when nothing had started (the error line says why), and
        # after a dry run, whose plan printed next to it says everything the board did.
        if not view.steps or view.dry_run or (kind is not None
                                              and not self.progress.started_any()):
            self._live.transient = True
        self._stack.close()

    def run(self, runner: Any, request: Any) -> Any:
        """`runner.run(request)` with the board following it; its last state shows the
        report's outcome and measured figures."""
        self.progress.follow(runner, request)
        result = runner.run(request)
        self.progress.finish(result.report)
        return result

    def render(self) -> RenderableType:
        """What the board shows now. Called on rich's refresh thread too, where an error
        would stop the redraws with a traceback across the screen: it is shown instead."""
        try:
            return self._render()
        except Exception as exc:  # noqa: BLE001 - the run goes on; the board says why it stopped
            return Text(f"dr: the board cannot draw the run ({exc!r}); its journal and "
                        "report are unaffected", style="red")

    def _render(self) -> RenderableType:
        view = self.progress.view()
        parts: list[RenderableType] = [_title(view), _clock(view), Text("")]
        tail: list[RenderableType] = []
        tail += [Text(f"not ready: {p}", style="bold red") for p in view.problems]
        tail += [Text(f"follow-up: {f}", style="yellow") for f in view.follow_ups]
        tail += [Text(n, style="red" if n.startswith("error") else "yellow",
                      overflow="ellipsis", no_wrap=True) for n in view.notices]
        width = self.console.size.width
        used = len(parts) + sum(max(1, len(str(t)) // max(width, 1) + 1) for t in tail) + 1
        parts.append(_steps(view, max(self.console.size.height - used, 4)))
        if tail:
            parts += [Text(""), *tail]
        return Group(*parts)


def _quiet_keyboard(stack: ExitStack) -> None:
    """No echo of typed keys while the board is drawn: a key (or the `^C` of Ctrl-C) echoed
    after its last line moves the cursor, and each redraw would then start a line lower."""
    if not sys.stdin.isatty():
        return
    import termios

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~termios.ECHO  # lflag
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    stack.callback(termios.tcsetattr, fd, termios.TCSANOW, saved)


def _title(view: View) -> Text:
    title = Text(f"dr {view.command or '…'}", style="bold")
    if view.from_region:
        title.append(f"  {view.from_region} → {view.to_region}")
    if view.run_id:
        title.append(f"  run {view.run_id}", style="dim")
    if view.dry_run:
        title.append("  dry run: nothing is sent", style="blue")
    state = view.outcome or ("running" if any(s.started for s in view.steps)
                             else "checking readiness" if view.steps else "planning")
    style = {"succeeded": "bold green", "planned": "bold blue", "running": "bold cyan"}.get(
        state, "bold yellow" if state == "checking readiness" else "bold red")
    title.append("  ")
    title.append(state, style=style)
    return title


def _clock(view: View) -> Text:
    report = view.report
    if report is not None and report["rto"].get("method") != "estimate":
        line = Text()
        for name in ("rto", "rpo"):
            figure = report[name]
            met = {True: ("met", "green"), False: ("MISSED", "bold red"),
                   None: ("not measured", "yellow")}[figure.get("met")]
            line.append(f"{name.upper()} {_short(figure.get('measured_seconds')) or '—'} of "
                        f"{figure['target_seconds']:g}s target: ")
            line.append(met[0], style=met[1])
            line.append(f" ({figure.get('method')})   ")
        return line
    if view.dry_run:
        estimate = report["rto"].get("estimated_seconds") if report else None
        return Text("RTO estimate " + (_short(estimate) if estimate is not None else "…")
                    + " (critical path of typical durations)", style="blue")
    if view.clock is None:
        return Text("RTO clock not started", style="dim")
    # A drill's RTO is its first phase's: the clock stops when that phase is done.
    stopped = view.phase_finished_at(view.phases[0]) if len(view.phases) > 1 else None
    elapsed = max(0.0, (stopped or view.now) - view.clock.started_at)
    used = elapsed / view.clock.target_seconds
    style = "green" if used < 0.5 else "yellow" if used < 1 else "bold red"
    since = datetime.fromtimestamp(view.clock.started_at, UTC).strftime("%H:%M:%SZ")
    line = Text("RTO clock ")
    line.append(f"{_clock_text(elapsed)} of {_clock_text(view.clock.target_seconds)}",
                style=style)
    line.append(f"  {_bar(used)} {100 * used:.0f}%", style=style)
    line.append(f"  since {since}", style="dim")
    if stopped:
        line.append(f"  stopped: the {view.phases[0]} phase is done", style="dim")
    return line


def _steps(view: View, limit: int) -> Table:
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(no_wrap=True, width=11)
    table.add_column(no_wrap=True, overflow="ellipsis", max_width=56)
    table.add_column(no_wrap=True, justify="right", width=7)
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    for row in rows(view, limit):
        if isinstance(row, str):
            table.add_row("", Text(row, style="dim"), "", "")
        else:
            table.add_row(Text(row.state, style=STYLES.get(row.state, "")), row.id,
                          _short(row.elapsed(view.now)), _detail(row))
    return table


def _detail(step: Step) -> Text:
    if step.state == "running" and step.awaiting:
        return Text(f"waiting for {step.awaiting}", style="cyan")
    return Text(step.note, style="red" if step.state == "failed" else "dim")


def _short(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds:.1f}s" if seconds < 60 else _clock_text(seconds)


def _clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def _bar(fraction: float, width: int = 20) -> str:
    filled = min(width, round(fraction * width))
    return "█" * filled + "░" * (width - filled)
