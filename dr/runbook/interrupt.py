"""SIGINT (Ctrl-C) and SIGTERM (an ECS task being stopped) during a run: contract 1.1,
"Interrupted runs".

The first signal asks the run to stop: no new step starts, a step in a wait abandons it, a
step in an AWS call finishes that call; the runner then journals `run.interrupted`, writes
the report (outcome `interrupted`), releases the lock and exits 128 + the signal's number.
A repeated signal is told that the run is already stopping: raising in the main thread
there would leave steps mid-call without their journal record, and the wait for them is
short (every call has a bounded timeout). Handlers can only be installed from the main
thread; elsewhere (a run driven from a test's thread) signals keep their own handlers.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

import structlog

log = structlog.get_logger("dr.run")

SIGNALS = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


def exit_code(name: str) -> int:
    """The shell's convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(getattr(signal, name))


class Interrupts:
    """While entered, the first SIGINT or SIGTERM calls `stop(name)` once."""

    def __init__(self, stop: Callable[[str], None]) -> None:
        self._stop = stop
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = SIGNALS[signal.Signals(signum)]
        if self.received is not None:
            print(f"dr: {name} again: already stopping at the next step boundary "
                  "(steps in an AWS call finish that call)", file=sys.stderr, flush=True)
            return
        self.received = name
        log.warning("run.interrupting", signal=name)
        self._stop(name)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()
